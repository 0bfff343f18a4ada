import {
  databaseUrl,
  startNatsServer,
  startToxiproxy,
  waitFor,
  type NatsServerHandle,
  type ToxiproxyHandle,
} from '@ticketing/common/testing';
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { runStress } from '../stress/run-stress';
import { crossServiceCheck, listenerStats, startTestStack, stackApi, ticketsOutbox, type ApiAnswer } from './stack-fixture';
import { serviceLinks, stackLinks, type ServiceLinks, type ServiceName } from './fault-links';
import { Subjects } from '@ticketing/common';

/**
 * Network faults between the services and their servers, made by a real fault proxy (Toxiproxy):
 * each service reaches NATS and its MongoDB through its own proxies, so a fault hits one service's
 * link only. Latency, a bandwidth limit, connections reset in mid-stream, and partitions of 10 s;
 * after each, the cross-service check.
 */
jest.setTimeout(180_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let toxiproxy: ToxiproxyHandle;
let nats: NatsServerHandle;
let links: Record<ServiceName, ServiceLinks>;
let stack: Stack;

beforeAll(async () => {
  toxiproxy = await startToxiproxy();
  nats = await startNatsServer();
  links = await serviceLinks(toxiproxy, [`127.0.0.1:${nats.port}`], new URL(process.env.TEST_MONGO_URL ?? '').host);
  // The stack's own NATS URL (the check's admin connection) goes around the proxies.
  stack = await startTestStack({ natsUrl: nats.url, links: stackLinks(links) });
});
// After every fault: versions equal across services, no event waiting in an outbox, no dead letter.
afterEach(async () => {
  await crossServiceCheck(stack);
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  await nats?.destroy();
  await toxiproxy?.stop();
});

const api = (method: string, path: string, body?: unknown) => stackApi(stack)(method, path, body);

/** How often a service's log says its NATS connection dropped (the fault reached it). */
const disconnects = (service: ServiceName): number =>
  (fs.readFileSync(path.join(stack.logDir, `${service}-0.log`), 'utf8').match(/"bus: disconnected"/g) ?? []).length;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network faults between the services and NATS / MongoDB (Toxiproxy, a proxy per service and link)', () => {
  it('when every link has 200 ms of latency, NATS is limited to 64 KB/s and each service’s NATS connections are reset in turn mid-run, then a stress run ends with 0 mismatches and each reset hit only its service', async () => {
    const all = [links.tickets.nats[0], links.orders.nats[0], links.tickets.mongo, links.orders.mongo];
    const toxics = [
      ...(await Promise.all(all.map(async (link) => [link, await link.addToxic('latency', { latency: 200 })] as const))),
      [links.tickets.nats[0], await links.tickets.nats[0].addToxic('bandwidth', { rate: 64 })] as const,
      [links.orders.nats[0], await links.orders.nats[0].addToxic('bandwidth', { rate: 64 })] as const,
    ];
    try {
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 15, convergeTimeoutMs: 90_000 });
      await waitFor(async () => (await listenerStats(stack.orders[0]))[Subjects.TicketCreated].handled >= 5, {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      // Every connection on tickets' NATS link is reset as soon as data flows, for a moment.
      const [ticketsDropped, ordersDropped] = [disconnects('tickets'), disconnects('orders')];
      const reset = await links.tickets.nats[0].addToxic('reset_peer', { timeout: 0 });
      await waitFor(() => disconnects('tickets') > ticketsDropped, { what: 'tickets to lose its NATS connection' });
      await links.tickets.nats[0].removeToxic(reset);
      // The fault was tickets’ link's alone. Then orders' turn.
      expect(disconnects('orders')).toBe(ordersDropped);
      const ordersReset = await links.orders.nats[0].addToxic('reset_peer', { timeout: 0 });
      await waitFor(() => disconnects('orders') > ordersDropped, { what: 'orders to lose its NATS connection' });
      await links.orders.nats[0].removeToxic(ordersReset);
      const summary = await run;
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
    } finally {
      for (const [link, toxic] of toxics) await link.removeToxic(toxic);
    }
  });

  it('when orders’ link to NATS is cut, then tickets keeps publishing through its own; when tickets’ is cut too, its events wait in its outbox; after 10 s everything converges, the order placed meanwhile included', async () => {
    const held = (await api('POST', '/api/tickets', { title: 'held during the cut', price: 5 })).body;
    await waitFor(async () => (await api('GET', `/api/orders/tickets/${held.id}`)).status === 200);
    const [dropped, ticketsDropped] = [disconnects('orders'), disconnects('tickets')];
    await links.orders.nats[0].disable();
    await waitFor(() => disconnects('orders') > dropped, { what: 'orders to lose its NATS connection' });
    const accepted: { id: string }[] = [];
    const write = async (prefix: string) => {
      for (let i = 0; i < 5; i++) {
        const created = await api('POST', '/api/tickets', { title: `${prefix}-${i}`, price: 5 });
        expect(created.status).toBe(201);
        expect((await api('PUT', `/api/tickets/${created.body.id}`, { title: `${prefix}-${i}`, price: 10 })).status).toBe(200);
        accepted.push(created.body);
      }
    };
    let order: { id: string };
    try {
      await write('orders-cut');
      // An order placed now is stored; its event waits in orders' outbox.
      const placed = await api('POST', '/api/orders', { ticketId: held.id });
      expect(placed.status).toBe(201);
      order = placed.body;
      // tickets' link is whole: its events leave the outbox for the stream meanwhile.
      await waitFor(async () => (await ticketsOutbox(stack)) === 0, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'tickets’ outbox to empty',
      });
      expect((await api('GET', `/api/orders/tickets/${accepted[0].id}`)).status).toBe(404);
      expect(disconnects('tickets')).toBe(ticketsDropped);

      await links.tickets.nats[0].disable();
      await waitFor(() => disconnects('tickets') > ticketsDropped, { what: 'tickets to lose its NATS connection' });
      await write('both-cut');
      expect(await ticketsOutbox(stack)).toBeGreaterThan(0);
      await pause(10_000); // the partition lasts 10 s
      expect(await ticketsOutbox(stack)).toBeGreaterThan(0);
    } finally {
      await links.tickets.nats[0].enable();
      await links.orders.nats[0].enable();
    }
    await waitFor(
      async () => {
        const replicas = await Promise.all(accepted.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
        return replicas.every((r) => r.status === 200 && r.body.version === 1 && r.body.price === 10);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'replicas to converge after the partition' },
    );
    await waitFor(async () => (await api('GET', `/api/tickets/${held.id}`)).body?.orderId === order.id, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'tickets to reserve the ticket for the order placed during the cut',
    });
  });

  it('when tickets’ link to MongoDB is cut for 10 s, then its requests get the JSON 503 while orders still answers, and afterwards everything recovers', async () => {
    const before = (await api('POST', '/api/tickets', { title: 'before db cut', price: 5 })).body;
    await waitFor(async () => (await api('GET', `/api/orders/tickets/${before.id}`)).status === 200);
    await links.tickets.mongo.disable();
    try {
      const refused = await api('POST', '/api/tickets', { title: 'during db cut', price: 5 });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ errors: [{ message: expect.any(String) }] });
      expect((await api('GET', `/api/tickets/${before.id}`)).status).toBe(503);
      // orders' own link is whole.
      expect((await api('GET', `/api/orders/tickets/${before.id}`)).status).toBe(200);
      await pause(10_000); // the partition lasts 10 s
    } finally {
      await links.tickets.mongo.enable();
    }
    const after = await waitFor(
      async () => {
        const created = await api('POST', '/api/tickets', { title: 'after db cut', price: 7 });
        return created.status === 201 ? created.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'writes to succeed again' },
    );
    await waitFor(async () => (await api('GET', `/api/orders/tickets/${after.id}`)).body?.version === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the new ticket to replicate',
    });
    for (const copy of [...stack.tickets, ...stack.orders]) expect(copy.running).toBe(true);
  });

  it('when orders’ link to MongoDB is cut for 10 s while tickets keeps writing, then orders answers the JSON 503, and applies every event once the link is back', async () => {
    await links.orders.mongo.disable();
    const accepted: { id: string }[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const created = await api('POST', '/api/tickets', { title: `orders-db-cut-${i}`, price: 5 });
        expect(created.status).toBe(201);
        accepted.push(created.body);
      }
      const refused = await api('GET', `/api/orders/tickets/${accepted[0].id}`);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ errors: [{ message: expect.any(String) }] });
      await pause(10_000); // the partition lasts 10 s
    } finally {
      await links.orders.mongo.enable();
    }
    await waitFor(
      async () => {
        const replicas = await Promise.all(accepted.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
        return replicas.every((r) => r.status === 200 && r.body.version === 0);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'replicas to converge after the partition' },
    );
    for (const copy of [...stack.tickets, ...stack.orders]) expect(copy.running).toBe(true);
  });

  it('when the MongoDB links are limited to 16 KB/s and their connections reset under writes in flight, then every acknowledged write is stored, every failure is a JSON 503 a retry gets through, and every stored event is published', async () => {
    const answers: { method: string; status: number; body: any; retryAfter: string | null }[] = [];
    const acknowledged: { id: string; version: number }[] = [];
    let stop = false;
    /** A client that retries a refused request until it gets through, as the 503 invites. */
    const send = async (method: string, path: string, body: unknown): Promise<ApiAnswer> => {
      for (;;) {
        const answer = await api(method, path, body);
        answers.push({ method, ...answer });
        if (answer.status < 500) return answer;
        await pause(100);
      }
    };
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const created = await send('POST', '/api/tickets', { title: `reset-${w}-${i}`, price: 5 });
        expect(created.status).toBe(201);
        acknowledged.push({ id: created.body.id, version: created.body.version });
        for (const price of [10, 15]) {
          const updated = await send('PUT', `/api/tickets/${created.body.id}`, { title: `reset-${w}-${i}`, price });
          expect(updated.status).toBe(200);
          acknowledged.push({ id: updated.body.id, version: updated.body.version });
        }
      }
    };
    const failures = () => answers.filter((a) => a.status >= 500).length;
    const writers = Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
    writers.catch(() => undefined); // a writer's failure is reported where it is awaited, below
    const limits = [
      [links.tickets.mongo, await links.tickets.mongo.addToxic('bandwidth', { rate: 16 })] as const,
      [links.orders.mongo, await links.orders.mongo.addToxic('bandwidth', { rate: 16 })] as const,
    ];
    try {
      await waitFor(() => acknowledged.length >= 20, { timeoutMs: 60_000, intervalMs: 20, what: 'writes through the limited links' });
      // tickets' connections reset as soon as data flows, until a write in flight has failed.
      const reset = await links.tickets.mongo.addToxic('reset_peer', { timeout: 0 });
      await waitFor(() => failures() > 0, { timeoutMs: 30_000, intervalMs: 10, what: 'a write to fail on the reset' });
      await links.tickets.mongo.removeToxic(reset);
      // orders' connections reset while it applies those events and answers reads.
      const seen = acknowledged.length;
      const ordersReset = await links.orders.mongo.addToxic('reset_peer', { timeout: 0 });
      const refused = await waitFor(
        async () => {
          const read = await api('GET', `/api/orders/tickets/${acknowledged[0].id}`);
          return read.status === 503 ? read : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 10, what: 'orders to answer 503 on the reset' },
      );
      expect(refused.body).toMatchObject({ errors: [{ message: expect.any(String) }] });
      await links.orders.mongo.removeToxic(ordersReset);
      await waitFor(() => acknowledged.length >= seen + 20, { timeoutMs: 60_000, intervalMs: 20, what: 'writes after the resets' });
    } finally {
      stop = true;
      for (const [link, toxic] of limits) await link.removeToxic(toxic);
    }
    await writers;

    // Each failure was the retryable answer: 503, JSON errors, Retry-After.
    const failed = answers.filter((a) => a.status >= 500);
    expect(failed.length).toBeGreaterThan(0);
    for (const answer of failed) {
      expect({ status: answer.status, retryAfter: answer.retryAfter, body: answer.body }).toEqual({
        status: 503,
        retryAfter: expect.any(String),
        body: expect.objectContaining({ errors: [expect.objectContaining({ message: expect.any(String) })] }),
      });
    }
    // Every acknowledged write is in tickets' database (at its version or a later retry's).
    const database = new URL(stack.tickets[0].options.env.MONGO_URL!).pathname.slice(1);
    const db = await mongoose.createConnection(databaseUrl(process.env.TEST_MONGO_URL!, database)).asPromise();
    try {
      const stored = new Map(
        (
          await db
            .collection('tickets')
            .find({}, { projection: { version: 1 } })
            .toArray()
        ).map((t) => [String(t._id), t.version as number]),
      );
      const lost = acknowledged.filter((a) => !((stored.get(a.id) ?? -1) >= a.version));
      expect(lost).toEqual([]);
    } finally {
      await db.close();
    }
    // The cross-service check after this test: every stored event was published and applied.
  });
});
