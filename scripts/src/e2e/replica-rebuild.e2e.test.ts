import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { waitFor, DEFAULT_STREAM, JetStreamBus } from '@ticketing/common/testing';
import { rebuildTicketReplica } from '../replica/rebuild-replica';
import { rebuildOrderReferences } from '../replica/rebuild-order-references';
import { crossServiceCheck, startTestStack, stackApi } from './stack-fixture';

/**
 * The rule for a consumer that fell further behind than the stream keeps (docs/kubernetes.md,
 * "Stream limits"): the service refuses to start, and its copy of the other's data is rebuilt
 * from a snapshot of the owner. While it is stopped the stream is made to keep one second instead
 * of 14 days, so that the events it missed expire as they would.
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

/**
 * A stopped service's consumers miss what happens meanwhile (`meanwhile`), and the stream then
 * drops it: first their last pull requests expire (events delivered to one would count as
 * received; docs/kubernetes.md, "Stream limits", says what that leaves unchecked), then, once the
 * other service has published everything (its `collection` of records has no outbox left), the
 * stream is made to keep one second (the service sets its limits back when it starts).
 */
async function missedAndExpired(
  consumers: string[],
  meanwhile: () => Promise<void>,
  publisher: { mongoUrl: string; collection: string },
): Promise<void> {
  const admin = await JetStreamBus.connect({ servers: stack.natsUrl, name: 'rebuild-test' });
  try {
    await waitFor(
      async () => {
        const states = await Promise.all(consumers.map((name) => admin.manager.consumers.info(DEFAULT_STREAM, name)));
        return states.every((c) => c.num_waiting === 0);
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the stopped service’s pull requests to expire' },
    );
    await meanwhile();
    const db = await mongoose.createConnection(publisher.mongoUrl).asPromise();
    await waitFor(async () => (await db.collection(publisher.collection).countDocuments({ 'outbox.0': { $exists: true } })) === 0, {
      what: 'the events to be published',
    });
    await db.close();
    await admin.manager.streams.update(DEFAULT_STREAM, { max_age: 1e9, duplicate_window: 1e9 });
    await waitFor(async () => (await admin.manager.streams.info(DEFAULT_STREAM)).state.messages === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the events to expire',
    });
  } finally {
    await admin.close();
  }
}

/** Refused: it would build its copy with a hole. */
async function expectRefused(service: Stack['orders'][number]): Promise<void> {
  await expect(service.start()).rejects.toThrow(/exited before it was ready/);
  expect(fs.readFileSync(path.join(stack.logDir, `${service.options.name}.log`), 'utf8')).toMatch(
    /ConsumerBehindStreamError|received the stream up to message/,
  );
}

describe('a copy whose consumer fell further behind than the stream keeps', () => {
  it('orders’ ticket replica: refused at start-up, then rebuilt from the owner’s snapshot; every replica equals its ticket, and events after the snapshot still apply', async () => {
    const [orders] = stack.orders;
    const early: string[] = [];
    for (let i = 0; i < 3; i++) early.push((await api('POST', '/api/tickets', { title: `early-${i}`, price: 5 })).body.id);
    await waitFor(() => ticketsAt(early, 0), { timeoutMs: 30_000, intervalMs: 100, what: 'the first tickets to replicate' });

    // orders is away while tickets changes, and the stream drops what it missed.
    await orders.stop();
    const missed: string[] = [];
    await missedAndExpired(
      ['orders-service__ticket_created', 'orders-service__ticket_updated'],
      async () => {
        for (let i = 0; i < 3; i++) missed.push((await api('POST', '/api/tickets', { title: `missed-${i}`, price: 5 })).body.id);
        for (const id of early) expect((await api('PUT', `/api/tickets/${id}`, { title: 'edited while away', price: 7 })).status).toBe(200);
      },
      { mongoUrl: stack.tickets[0].options.env.MONGO_URL!, collection: 'tickets' },
    );
    await expectRefused(orders);

    const urls = {
      ticketsMongoUrl: stack.tickets[0].options.env.MONGO_URL!,
      ordersMongoUrl: orders.options.env.MONGO_URL!,
      natsUrl: stack.natsUrl,
    };
    const result = await rebuildTicketReplica(urls);
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
    expect((await rebuildTicketReplica(urls)).written).toBe(0);
    await orders.start();
    await crossServiceCheck(stack);
  });

  it('tickets’ order references: refused at start-up, then rebuilt from orders’ snapshot; each ticket is held by its active order, and events after the snapshot still apply', async () => {
    const [tickets] = stack.tickets;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api('POST', '/api/tickets', { title: `held-${i}`, price: 5 })).body.id);
    await waitFor(() => ticketsAt(ids, 0), { timeoutMs: 30_000, intervalMs: 100, what: 'the tickets to replicate' });
    const order = async (ticketId: string) => {
      const placed = await api('POST', '/api/orders', { ticketId });
      expect(placed.status).toBe(201);
      return placed.body.id as string;
    };
    const holderOf = async (id: string) => (await api('GET', `/api/tickets/${id}`)).body.orderId as string | undefined;
    // the first ticket is held before tickets goes away
    const cancelledWhileAway = await order(ids[0]);
    await waitFor(async () => (await holderOf(ids[0])) === cancelledWhileAway, { what: 'the first reservation' });

    // tickets is away while orders cancels one order and places another, and the stream drops both.
    await tickets.stop();
    let placedWhileAway = '';
    await missedAndExpired(
      ['tickets-service__order_created', 'tickets-service__order_updated'],
      async () => {
        expect((await api('DELETE', `/api/orders/${cancelledWhileAway}`)).status).toBe(200);
        placedWhileAway = await order(ids[1]);
      },
      { mongoUrl: stack.orders[0].options.env.MONGO_URL!, collection: 'orders' },
    );
    await expectRefused(tickets);

    const urls = {
      ticketsMongoUrl: tickets.options.env.MONGO_URL!,
      ordersMongoUrl: stack.orders[0].options.env.MONGO_URL!,
      natsUrl: stack.natsUrl,
    };
    const result = await rebuildOrderReferences(urls);
    expect(result).toEqual({
      consumersDeleted: ['tickets-service__order_created', 'tickets-service__order_updated'],
      orders: 2,
      written: 2, // the cancelled order's reference was older, the new one missing
      reservationsChanged: 2, // the first ticket freed, the second held
      heldTwice: [],
    });
    await tickets.start();
    expect(await holderOf(ids[0])).toBeUndefined();
    expect(await holderOf(ids[1])).toBe(placedWhileAway);
    expect(await holderOf(ids[2])).toBeUndefined();
    // The two changes went out as ticket:updated events (tickets' sweep), and orders applied them.
    await waitFor(async () => (await ticketsAt([ids[0]], 2)) && (await ticketsAt([ids[1]], 1)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the rebuild’s events to apply',
    });
    await crossServiceCheck(stack);

    // Events after the snapshot apply on top of it: the order placed while away is cancelled.
    expect((await api('DELETE', `/api/orders/${placedWhileAway}`)).status).toBe(200);
    await waitFor(async () => (await holderOf(ids[1])) === undefined, { what: 'the later cancellation to free the ticket' });
    expect((await api('PUT', `/api/tickets/${ids[1]}`, { title: 'free again', price: 6 })).status).toBe(200);
    await crossServiceCheck(stack);

    // A second run finds nothing to write.
    await tickets.stop();
    expect(await rebuildOrderReferences(urls)).toMatchObject({ written: 0, reservationsChanged: 0 });
    await tickets.start();
    await crossServiceCheck(stack);
  });
});
