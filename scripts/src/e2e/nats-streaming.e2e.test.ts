import { Types } from 'mongoose';
import { Subjects, type TicketEventData } from '@ticketing/common';
import { readStanChannel, waitFor, StanBus } from '@ticketing/common/testing';
import { runStress } from '../stress/run-stress';
import { listenerStats, startTestStack } from './stack-fixture';

jest.setTimeout(180_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * The whole stack on NATS Streaming (EVENT_BUS=nats-streaming, a real nats-streaming-server):
 * the same proofs as on JetStream, on a transport with no de-duplication and no server-side
 * delivery count. One stack for the file, each test making tickets of its own.
 */
describe('the whole stack on NATS Streaming (real processes, real servers)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({ ordersReplicas: 2, eventBus: 'nats-streaming' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const expectClean = (summary: Awaited<ReturnType<typeof runStress>>) => {
    expect(summary.httpErrors).toEqual({});
    expect(summary.failedIterations).toBe(0);
    expect(summary.firstMismatches).toEqual([]);
    expect(summary.mismatches).toBe(0);
  };

  it('when two copies of orders share the work, then 200 concurrent iterations leave 0 mismatches and each ticket event is applied by exactly one copy', async () => {
    const summary = await runStress({ baseUrl: stack.url, token: stack.token, iterations: 200 });
    expectClean(summary);
    // 200 ticket:created + 400 ticket:updated: applied once each across the two copies, even
    // though this transport stores a re-published event again.
    const perCopy = await Promise.all(stack.orders.map(listenerStats));
    const applied = (subject: string) => perCopy.reduce((sum, s) => sum + s[subject].applied, 0);
    expect(applied(Subjects.TicketCreated)).toBe(200);
    expect(applied(Subjects.TicketUpdated)).toBe(400);
    for (const copy of perCopy) expect(copy[Subjects.TicketCreated].applied + copy[Subjects.TicketUpdated].applied).toBeGreaterThan(0);
  });

  it('when the NATS Streaming server restarts in the middle of a stress run, then 0 mismatches', async () => {
    const before = (await listenerStats(stack.orders[0]))[Subjects.TicketCreated].handled;
    const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 200, convergeTimeoutMs: 90_000 });
    await waitFor(async () => (await listenerStats(stack.orders[0]))[Subjects.TicketCreated].handled >= before + 10, {
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    await stack.nats!.restart();
    expectClean(await run);
  });

  it('when a copy of orders is killed with SIGKILL mid-run and started again at once, then it rejoins its queue group and 0 mismatches', async () => {
    const victim = stack.orders[0];
    const handled = async () => {
      const stats = await listenerStats(victim);
      return stats[Subjects.TicketCreated].handled + stats[Subjects.TicketUpdated].handled;
    };
    const before = await handled();
    const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 200, convergeTimeoutMs: 90_000 });
    await waitFor(async () => (await handled()) >= before + 20, { timeoutMs: 60_000, intervalMs: 5 });
    await victim.kill();
    expect(victim.exits.at(-1)?.signal).toBe('SIGKILL');
    // At once: the server still holds the dead copy's connection. A fixed client id would be
    // refused ("clientID already registered"); a fresh one per connection is not.
    await victim.start();
    expectClean(await run);
    // The restarted copy takes its share of new work.
    const after = await runStress({ baseUrl: stack.url, token: stack.token, iterations: 50 });
    expectClean(after);
    expect(await handled()).toBeGreaterThan(0);
  });

  it('when poison events arrive, then they are dead-lettered with their reasons and the next event is applied', async () => {
    const bus = await StanBus.connect({ servers: stack.natsUrl, clusterId: stack.stan!.clusterId, name: 'e2e-poison' });
    try {
      const id = new Types.ObjectId().toHexString();
      const event: TicketEventData = { id, version: 1, title: 'poison', price: 1, userId: 'u' };
      await bus.publishRaw(Subjects.TicketUpdated, '{"id":');
      await bus.publish(Subjects.TicketUpdated, { ...event, price: 'cheap' });
      await bus.publish(Subjects.TicketUpdated, { ...event, version: { major: 3 } });
      const api = (method: string, path: string, body?: unknown) =>
        fetch(stack.url + path, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const created = (await (await api('POST', '/api/tickets', { title: 'after poison', price: 7 })).json()) as { id: string };
      expect((await api('PUT', `/api/tickets/${created.id}`, { title: 'after poison', price: 8 })).status).toBe(200);
      await waitFor(
        async () => {
          const res = await api('GET', `/api/orders/tickets/${created.id}`);
          return res.status === 200 && ((await res.json()) as { version: number }).version === 1;
        },
        { timeoutMs: 30_000, what: 'the event behind the poison applied' },
      );
      const letters = await waitFor(async () => {
        const all = await readStanChannel<{ reason: string; payload: string }>(stack.stan!, 'deadletter.orders-service');
        const ours = all.filter((l) => l.payload === '{"id":' || l.payload.includes(id));
        return ours.length >= 3 ? ours : null;
      });
      // The two copies share the work, so the letters may come in any order.
      const reasons = letters.map((l) => l.reason);
      for (const why of [/not valid JSON/, /price/, /version/]) expect(reasons.filter((r) => why.test(r))).toHaveLength(1);
      for (const copy of stack.orders) expect(copy.running).toBe(true);
    } finally {
      await bus.close();
    }
  });
});
