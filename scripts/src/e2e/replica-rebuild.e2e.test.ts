import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { waitFor, DEFAULT_STREAM, JetStreamBus } from '@ticketing/common/testing';
import { rebuildTicketReplica } from '../replica/rebuild-replica';
import { crossServiceCheck, startTestStack, stackApi } from './stack-fixture';

/**
 * The rule for a consumer that fell further behind than the stream keeps (docs/kubernetes.md,
 * "Stream limits"): orders refuses to start, and its replica is rebuilt from a snapshot of the
 * owner. While orders is stopped the stream is made to keep one second instead of 14 days, so
 * that the events it missed expire as they would.
 */
jest.setTimeout(120_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, body?: unknown) => stackApi(stack)(method, path, body);

async function ticketsAt(ids: string[], version: number): Promise<boolean> {
  const replicas = await Promise.all(ids.map((id) => api('GET', `/api/orders/tickets/${id}`)));
  return replicas.every((r) => r.status === 200 && r.body.version === version);
}

describe('a replica whose consumer fell further behind than the stream keeps', () => {
  it('is refused at start-up, then rebuilt from the owner’s snapshot: every replica equals its ticket, and events after the snapshot still apply', async () => {
    const [orders] = stack.orders;
    const early: string[] = [];
    for (let i = 0; i < 3; i++) early.push((await api('POST', '/api/tickets', { title: `early-${i}`, price: 5 })).body.id);
    await waitFor(() => ticketsAt(early, 0), { timeoutMs: 30_000, intervalMs: 100, what: 'the first tickets to replicate' });

    // orders is away while tickets changes, and the stream drops what it missed.
    await orders.stop();
    const admin = await JetStreamBus.connect({ servers: stack.natsUrl, name: 'rebuild-test' });
    // Until its last pull requests have expired: events delivered to one would count as received
    // (docs/kubernetes.md, "Stream limits", says what that leaves unchecked).
    await waitFor(
      async () => {
        const consumers = await Promise.all(
          ['orders-service__ticket_created', 'orders-service__ticket_updated'].map((name) =>
            admin.manager.consumers.info(DEFAULT_STREAM, name),
          ),
        );
        return consumers.every((c) => c.num_waiting === 0);
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'orders’ pull requests to expire' },
    );
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) missed.push((await api('POST', '/api/tickets', { title: `missed-${i}`, price: 5 })).body.id);
    for (const id of early) expect((await api('PUT', `/api/tickets/${id}`, { title: 'edited while away', price: 7 })).status).toBe(200);
    try {
      const ticketsDb = await mongoose.createConnection(stack.tickets[0].options.env.MONGO_URL!).asPromise();
      await waitFor(async () => (await ticketsDb.collection('tickets').countDocuments({ 'outbox.0': { $exists: true } })) === 0, {
        what: 'tickets’ events to be published',
      });
      await ticketsDb.close();
      // The stream's limits drop what orders missed: made to keep one second here, not 14 days
      // (orders sets its limits back when it starts).
      await admin.manager.streams.update(DEFAULT_STREAM, { max_age: 1e9, duplicate_window: 1e9 });
      await waitFor(async () => (await admin.manager.streams.info(DEFAULT_STREAM)).state.messages === 0, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'the events to expire',
      });
    } finally {
      await admin.close();
    }

    // Refused: it would build a replica with a hole.
    await expect(orders.start()).rejects.toThrow(/exited before it was ready/);
    expect(fs.readFileSync(path.join(stack.logDir, 'orders-0.log'), 'utf8')).toMatch(
      /ConsumerBehindStreamError|received the stream up to message/,
    );

    const result = await rebuildTicketReplica({
      ticketsMongoUrl: stack.tickets[0].options.env.MONGO_URL!,
      ordersMongoUrl: orders.options.env.MONGO_URL!,
      natsUrl: stack.natsUrl,
    });
    expect(result).toEqual({
      consumersDeleted: ['orders-service__ticket_created', 'orders-service__ticket_updated'],
      tickets: 6,
      written: 6, // 3 missing, 3 older
    });
    await orders.start();
    expect(await ticketsAt(early, 1)).toBe(true);
    expect(await ticketsAt(missed, 0)).toBe(true);

    // Events after the snapshot apply on top of it.
    for (const id of missed) expect((await api('PUT', `/api/tickets/${id}`, { title: 'after the rebuild', price: 9 })).status).toBe(200);
    await waitFor(() => ticketsAt(missed, 1), { timeoutMs: 30_000, intervalMs: 100, what: 'the later edits to apply' });
    await crossServiceCheck(stack);

    // A second run finds nothing to write.
    await orders.stop();
    const again = await rebuildTicketReplica({
      ticketsMongoUrl: stack.tickets[0].options.env.MONGO_URL!,
      ordersMongoUrl: orders.options.env.MONGO_URL!,
      natsUrl: stack.natsUrl,
    });
    expect(again.written).toBe(0);
    await orders.start();
    await crossServiceCheck(stack);
  });
});
