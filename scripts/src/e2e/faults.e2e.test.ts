import { Types } from 'mongoose';
import { Subjects, type TicketEventData } from '@ticketing/common';
import { readDeadLetters, readStream, waitFor, JetStreamBus, eventMessageId } from '@ticketing/common/testing';
import { runStress } from '../stress/run-stress';
import { listenerStats, startTestStack } from './stack-fixture';

jest.setTimeout(240_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function client(stack: Stack) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(stack.url + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
}

async function replicasMatch(stack: Stack, expected: { id: string; price: number; version: number }[]) {
  const api = client(stack);
  const replicas = await Promise.all(expected.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
  return replicas.every((r, i) => r.status === 200 && r.body.price === expected[i].price && r.body.version === expected[i].version);
}

describe('faults the system survives (real processes, real servers)', () => {
  it('when NATS is down while tickets are created and updated, then the requests succeed, /readyz says not ready, and every replica converges once it returns', async () => {
    const stack = await startTestStack();
    const api = client(stack);
    try {
      await stack.nats!.stop();
      // probes: alive, but not ready while the bus is unreachable
      for (const copy of [...stack.tickets, ...stack.orders]) {
        await waitFor(async () => (await fetch(`${copy.url}/readyz`)).status === 503, { timeoutMs: 15_000 });
        expect((await fetch(`${copy.url}/healthz`)).status).toBe(200);
      }
      const expected: { id: string; price: number; version: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await api('POST', '/api/tickets', { title: `outage-${i}`, price: 5 });
        expect(created.status).toBe(201);
        const updated = await api('PUT', `/api/tickets/${created.body.id}`, { title: `outage-${i}`, price: 15 });
        expect(updated.status).toBe(200);
        expected.push({ id: created.body.id, price: 15, version: 1 });
      }
      expect((await api('GET', `/api/orders/tickets/${expected[0].id}`)).status).toBe(404);
      await stack.nats!.start();
      await waitFor(() => replicasMatch(stack, expected), { timeoutMs: 60_000, intervalMs: 200, what: 'replicas to converge' });
      for (const copy of [...stack.tickets, ...stack.orders]) expect((await fetch(`${copy.url}/readyz`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  it('when NATS restarts in the middle of a stress run, then 0 mismatches and nothing is lost', async () => {
    const stack = await startTestStack();
    try {
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 200, convergeTimeoutMs: 90_000 });
      await waitFor(async () => (await listenerStats(stack.orders[0]))[Subjects.TicketCreated].handled >= 10, {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      await stack.nats!.restart();
      const summary = await run;
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
    } finally {
      await stack.stop();
    }
  });

  it('when MongoDB is unavailable, then requests get a JSON 503 quickly, listeners do not ack, and everything recovers when it returns', async () => {
    const stack = await startTestStack({ mongoUrl: undefined });
    const api = client(stack);
    const bus = await JetStreamBus.connect({ servers: stack.natsUrl, name: 'fault-test' });
    try {
      if (stack.mongo?.kind === 'external') {
        throw new Error('this test stops the database, so it needs a server of its own: unset MONGO_URL (the kit then starts one)');
      }
      const ticket = (await api('POST', '/api/tickets', { title: 'db outage', price: 20 })).body;
      await stack.mongo!.stop();

      const started = Date.now();
      const refused = await api('POST', '/api/tickets', { title: 'while down', price: 5 });
      expect(refused.status).toBe(503);
      expect(refused.body.errors[0].message).toMatch(/unavailable/i);
      expect(Date.now() - started).toBeLessThan(10_000);
      // an edit of a ticket this copy remembers writing goes straight to its write: a 503 too
      const edit = await api('PUT', `/api/tickets/${ticket.id}`, { title: 'db outage', price: 30 });
      expect(edit.status).toBe(503);
      expect((await fetch(`${stack.tickets[0].url}/readyz`)).status).toBe(503);

      // an order event arrives while tickets cannot write: it must not be acknowledged
      const orderId = new Types.ObjectId().toHexString();
      const order = {
        id: orderId,
        version: 0,
        status: 'created' as const,
        userId: 'someone',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        ticket: { id: ticket.id, price: 20 },
      };
      await bus.publish(Subjects.OrderCreated, order, eventMessageId(Subjects.OrderCreated, order));
      await waitFor(async () => (await listenerStats(stack.tickets[0]))[Subjects.OrderCreated].retried > 0, { timeoutMs: 20_000 });
      expect((await listenerStats(stack.tickets[0]))[Subjects.OrderCreated].handled).toBe(0);
      expect(stack.tickets[0].running).toBe(true);

      await stack.mongo!.start();
      await waitFor(async () => (await api('GET', `/api/tickets/${ticket.id}`)).body?.orderId === orderId, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      expect((await api('POST', '/api/tickets', { title: 'after', price: 5 })).status).toBe(201);
      await waitFor(async () => (await fetch(`${stack.tickets[0].url}/readyz`)).status === 200);
    } finally {
      await bus.close();
      await stack.stop();
    }
  });

  it('when events are delivered again, out of order, or malformed, then replicas end right and the listener carries on', async () => {
    const stack = await startTestStack();
    const api = client(stack);
    const bus = await JetStreamBus.connect({ servers: stack.natsUrl, name: 'fault-test' });
    try {
      // duplicates: every ticket event published again (new message ids, so the bus delivers them)
      const t = (await api('POST', '/api/tickets', { title: 'dup', price: 5 })).body;
      await api('PUT', `/api/tickets/${t.id}`, { title: 'dup', price: 15 });
      await waitFor(() => replicasMatch(stack, [{ id: t.id, price: 15, version: 1 }]));
      const history = await readStream<TicketEventData>(bus);
      for (const event of history.filter((e) => e.data.id === t.id))
        await bus.publish(event.subject, event.data, `replay-${event.sequence}`);

      // out of order: version 2 published before version 1, both before the replica exists
      const id = new Types.ObjectId().toHexString();
      const v = (version: number, price: number): TicketEventData => ({ id, version, title: 'ooo', price, userId: 'u' });
      await bus.publish(Subjects.TicketUpdated, v(2, 15), eventMessageId(Subjects.TicketUpdated, v(2, 15)));
      await bus.publish(Subjects.TicketUpdated, v(1, 10), eventMessageId(Subjects.TicketUpdated, v(1, 10)));
      await bus.publish(Subjects.TicketCreated, v(0, 5), eventMessageId(Subjects.TicketCreated, v(0, 5)));

      // poison: not JSON, wrong types, an unknown version shape
      await bus.connection.publish(Subjects.TicketUpdated, '{"id":');
      await bus.publish(Subjects.TicketUpdated, { ...v(3, 1), price: 'cheap' }, 'poison-types');
      await bus.publish(Subjects.TicketUpdated, { ...v(3, 1), version: { major: 3 } }, 'poison-version');
      // …and a good event behind them
      const after = (await api('POST', '/api/tickets', { title: 'after poison', price: 7 })).body;

      await waitFor(
        () =>
          replicasMatch(stack, [
            { id, price: 15, version: 2 },
            { id: after.id, price: 7, version: 0 },
          ]),
        { timeoutMs: 30_000 },
      );
      expect(await replicasMatch(stack, [{ id: t.id, price: 15, version: 1 }])).toBe(true);
      const letters = await waitFor(async () => {
        const all = await readDeadLetters(bus, 'orders-service');
        return all.length >= 3 ? all : null;
      });
      expect(letters.map((l) => l.reason).join('\n')).toMatch(/not valid JSON[\s\S]*price[\s\S]*version/);
      expect(stack.orders[0].running).toBe(true);
    } finally {
      await bus.close();
      await stack.stop();
    }
  });

  it('when a service gets SIGTERM under load, then in-flight requests finish, it exits 0 within 10 s, and their events are still published', async () => {
    const stack = await startTestStack();
    try {
      const tickets = stack.tickets[0];
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` };
      let answered = 0;
      const requests = Array.from({ length: 40 }, (_, i) =>
        fetch(`${tickets.url}/api/tickets`, { method: 'POST', headers, body: JSON.stringify({ title: `term-${i}`, price: 5 }) })
          .then(
            async (res) => ({ status: res.status, body: (await res.json()) as { id: string } }),
            () => ({ status: 0 }),
          )
          .finally(() => answered++),
      );
      // The service is taking them: the first is answered, the others are on their way or in flight.
      await waitFor(() => answered > 0, { what: 'a first answer' });
      const started = Date.now();
      const code = await tickets.stop('SIGTERM');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      const results = await Promise.all(requests);
      const accepted = results.filter((r) => r.status === 201) as { body: { id: string } }[];
      expect(results.filter((r) => r.status !== 201 && r.status !== 0)).toEqual([]);
      expect(accepted.length).toBeGreaterThan(0);
      // The events of every answered write were published before the process exited.
      await waitFor(
        () =>
          replicasMatch(
            stack,
            accepted.map((r) => ({ id: r.body.id, price: 5, version: 0 })),
          ),
        { timeoutMs: 30_000 },
      );
      // Requests that got no answer (refused, or reset on an idle keep-alive socket) were never
      // processed: every ticket stored is one that was answered.
      await tickets.start();
      const stored = (await (await fetch(`${tickets.url}/api/tickets?limit=100`)).json()) as { tickets: { id: string; title: string }[] };
      const storedIds = stored.tickets.filter((t) => t.title.startsWith('term-')).map((t) => t.id);
      expect(storedIds.sort()).toEqual(accepted.map((r) => r.body.id).sort());

      // orders, while it is applying a burst of ticket events, stops as cleanly
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          fetch(`${tickets.url}/api/tickets`, { method: 'POST', headers, body: JSON.stringify({ title: `burst-${i}`, price: 5 }) }),
        ),
      );
      const ordersStarted = Date.now();
      expect(await stack.orders[0].stop('SIGTERM')).toBe(0);
      expect(Date.now() - ordersStarted).toBeLessThan(10_000);
    } finally {
      await stack.stop();
    }
  });
});
