import {
  startNatsServer,
  startToxiproxy,
  waitFor,
  type NatsServerHandle,
  type ToxicProxy,
  type ToxiproxyHandle,
} from '@ticketing/common/testing';
import fs from 'node:fs';
import path from 'node:path';
import { runStress } from '../stress/run-stress';
import { crossServiceCheck, listenerStats, startTestStack } from './stack-fixture';
import { Subjects } from '@ticketing/common';

/**
 * Network faults between the services and their servers, made by a real fault proxy (Toxiproxy)
 * that both services reach NATS and MongoDB through: latency, a bandwidth limit, connections reset
 * in mid-stream, and partitions of 10 s; after each, the cross-service check.
 */
jest.setTimeout(180_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let toxiproxy: ToxiproxyHandle;
let nats: NatsServerHandle;
let natsLink: ToxicProxy;
let mongoLink: ToxicProxy;
let stack: Stack;

beforeAll(async () => {
  toxiproxy = await startToxiproxy();
  nats = await startNatsServer();
  natsLink = await toxiproxy.proxy('nats', `127.0.0.1:${nats.port}`);
  const mongo = new URL(process.env.TEST_MONGO_URL ?? '');
  mongoLink = await toxiproxy.proxy('mongo', mongo.host);
  stack = await startTestStack({ natsUrl: `nats://${natsLink.listen}`, mongoUrl: `mongodb://${mongoLink.listen}` });
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

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(stack.url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
};

/** How often a service's log says its NATS connection dropped (the fault reached it). */
const disconnects = (service: string): number =>
  (fs.readFileSync(path.join(stack.logDir, `${service}-0.log`), 'utf8').match(/"bus: disconnected"/g) ?? []).length;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network faults between the services and NATS / MongoDB (Toxiproxy)', () => {
  it('when every link has 200 ms of latency, NATS is limited to 64 KB/s and its connections are reset mid-run, then a stress run ends with 0 mismatches', async () => {
    const toxics = [
      [natsLink, await natsLink.addToxic('latency', { latency: 200 })],
      [mongoLink, await mongoLink.addToxic('latency', { latency: 200 })],
      [natsLink, await natsLink.addToxic('bandwidth', { rate: 64 })],
    ] as const;
    try {
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 15, convergeTimeoutMs: 90_000 });
      await waitFor(async () => (await listenerStats(stack.orders[0]))[Subjects.TicketCreated].handled >= 5, {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      // Every NATS connection is reset as soon as data flows, for a moment, then allowed again.
      const dropped = disconnects('tickets');
      const reset = await natsLink.addToxic('reset_peer', { timeout: 0 });
      await pause(1000);
      await natsLink.removeToxic(reset);
      expect(disconnects('tickets')).toBeGreaterThan(dropped);
      const summary = await run;
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
    } finally {
      for (const [link, toxic] of toxics) await link.removeToxic(toxic);
    }
  });

  it('when NATS is cut off for 10 s, then writes are still accepted and every replica converges once it is back', async () => {
    const dropped = disconnects('orders');
    await natsLink.disable();
    await waitFor(() => disconnects('orders') > dropped, { what: 'orders to lose its NATS connection' });
    const accepted: { id: string }[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const created = await api('POST', '/api/tickets', { title: `cut-${i}`, price: 5 });
        expect(created.status).toBe(201);
        expect((await api('PUT', `/api/tickets/${created.body.id}`, { title: `cut-${i}`, price: 10 })).status).toBe(200);
        accepted.push(created.body);
      }
      await pause(10_000); // the partition lasts 10 s
    } finally {
      await natsLink.enable();
    }
    await waitFor(
      async () => {
        const replicas = await Promise.all(accepted.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
        return replicas.every((r) => r.status === 200 && r.body.version === 1 && r.body.price === 10);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'replicas to converge after the partition' },
    );
  });

  it('when MongoDB is cut off for 10 s, then requests get the JSON 503, and afterwards everything recovers', async () => {
    const before = (await api('POST', '/api/tickets', { title: 'before db cut', price: 5 })).body;
    await mongoLink.disable();
    try {
      const refused = await api('POST', '/api/tickets', { title: 'during db cut', price: 5 });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ errors: [{ message: expect.any(String) }] });
      const read = await api('GET', `/api/orders/tickets/${before.id}`);
      expect(read.status).toBe(503);
      await pause(10_000); // the partition lasts 10 s
    } finally {
      await mongoLink.enable();
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
});
