import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import mongoose from 'mongoose';
import {
  TEST_JWT_KEY,
  databaseUrl,
  readDeadLetters,
  testToken,
  uniqueDatabaseName,
  waitFor,
  JetStreamBus,
} from '@ticketing/common/testing';
import { ACTIVE_ORDER_STATUSES, type ListenerStats } from '@ticketing/common';
import { startStack, type Stack, type StackOptions } from '../stack/stack';
import { reservationMismatches } from './reservations';

/**
 * A whole stack of real processes for an end-to-end test: its own nats-server, the run's shared
 * MongoDB-protocol server (own databases), and compiled services (`npm test` builds them first).
 */
export async function startTestStack(options: Partial<StackOptions> = {}): Promise<Stack & { token: string; logDir: string }> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-logs-'));
  const stack = await startStack({
    jwtKey: TEST_JWT_KEY,
    mongoUrl: process.env.TEST_MONGO_URL,
    databasePrefix: `${uniqueDatabaseName('e2e')}_`,
    logDir,
    serviceEnv: { LOG_LEVEL: 'warn' },
    ...options,
  });
  return { ...stack, token: testToken(), logDir };
}

export interface ApiAnswer {
  status: number;
  body: any;
  retryAfter: string | null;
}

/** JSON requests through the stack's gateway as its test user; every status resolves, only no answer rejects. */
export function stackApi(stack: { url: string; token: string }) {
  return async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const res = await fetch(stack.url + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any, retryAfter: res.headers.get('retry-after') };
  };
}

/**
 * Tickets whose events wait in tickets' outbox, read from its database on the run's server itself
 * (around any fault proxy the service's MONGO_URL goes through).
 */
export async function ticketsOutbox(stack: Stack): Promise<number> {
  const database = new URL(stack.tickets[0].options.env.MONGO_URL!).pathname.slice(1);
  const db = await mongoose.createConnection(databaseUrl(process.env.TEST_MONGO_URL!, database)).asPromise();
  try {
    return await db.collection('tickets').countDocuments({ 'outbox.0': { $exists: true } });
  } finally {
    await db.close();
  }
}

/** Per-copy counters each service exposes at /internal/stats. */
export async function listenerStats(copy: { json<T>(p: string): Promise<T> }): Promise<Record<string, ListenerStats>> {
  const stats = await copy.json<{ listeners: Record<string, ListenerStats> }>('/internal/stats');
  return stats.listeners;
}

/** What the cross-service check found once settled, for a test to say what it covered. */
export interface CrossServiceState {
  tickets: number;
  /** Tickets reserved in tickets (each by the active order in orders that holds it). */
  reserved: number;
}

/**
 * Every ticket's version in tickets equals its replica's in orders; every ticket reserved in
 * tickets is held by an active order for it in orders, every active order's ticket is reserved by
 * it, and no ticket is held by two active orders; no event waits in any outbox; the dead-letter
 * stream is empty. Read from the databases and the stream themselves.
 */
export async function crossServiceCheck(stack: Stack & { natsCluster?: Stack['natsCluster'] }): Promise<CrossServiceState> {
  const ticketsDb = await mongoose.createConnection(stack.tickets[0].options.env.MONGO_URL!).asPromise();
  const ordersDb = await mongoose.createConnection(stack.orders[0].options.env.MONGO_URL!).asPromise();
  // On the cluster, as its admin user (the services' users may not read the other's stream).
  // Retried: right after a fault the cluster may still be electing or catching up, and its API
  // requests time out meanwhile.
  const admin = await waitFor(
    () =>
      JetStreamBus.connect({
        servers: stack.natsUrl,
        name: 'cross-service-check',
        ...(stack.natsCluster
          ? { user: 'admin', pass: stack.natsCluster.credentials.admin, replicas: stack.natsCluster.nodes.length }
          : {}),
      }),
    { timeoutMs: 60_000, intervalMs: 500, what: 'an admin connection to NATS' },
  );
  try {
    const state = async () => {
      const [tickets, replicas, ticketOutboxes, orderOutboxes, activeOrders] = await Promise.all([
        ticketsDb
          .collection('tickets')
          .find({}, { projection: { version: 1, orderId: 1 } })
          .toArray(),
        ordersDb
          .collection('tickets')
          .find({}, { projection: { version: 1 } })
          .toArray(),
        ticketsDb.collection('tickets').countDocuments({ 'outbox.0': { $exists: true } }),
        ordersDb.collection('orders').countDocuments({ 'outbox.0': { $exists: true } }),
        ordersDb
          .collection('orders')
          .find({ status: { $in: [...ACTIVE_ORDER_STATUSES] } }, { projection: { ticket: 1 } })
          .toArray(),
      ]);
      const replicaVersion = new Map(replicas.map((r) => [String(r._id), r.version as number]));
      const differing = tickets.filter((t) => replicaVersion.get(String(t._id)) !== t.version).map((t) => String(t._id));
      const { heldTwice, reservedWithoutOrder, orderedNotReserved } = reservationMismatches(
        tickets,
        activeOrders.map((o) => ({ _id: o._id, ticket: o.ticket as unknown })),
      );
      return {
        tickets: tickets.length,
        reserved: tickets.filter((t) => t.orderId).length,
        differing: differing.slice(0, 5),
        heldTwice: heldTwice.slice(0, 5),
        reservedWithoutOrder: reservedWithoutOrder.slice(0, 5),
        orderedNotReserved: orderedNotReserved.slice(0, 5),
        ticketOutboxes,
        orderOutboxes,
      };
    };
    const clean = {
      differing: [],
      heldTwice: [],
      reservedWithoutOrder: [],
      orderedNotReserved: [],
      ticketOutboxes: 0,
      orderOutboxes: 0,
    };
    // The outbox removes published events a little after publishing them: poll until settled.
    await waitFor(
      async () => {
        const s = await state();
        return Object.entries(clean).every(([key, value]) => JSON.stringify(s[key as keyof typeof s]) === JSON.stringify(value));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'versions and reservations to match and outboxes to empty' },
    ).catch(() => undefined); // the assertion below says what still differs
    const settled = await state();
    expect(settled.tickets).toBeGreaterThan(0);
    expect(settled).toMatchObject(clean);
    expect(await waitFor(() => readDeadLetters(admin), { timeoutMs: 30_000, intervalMs: 500, what: 'the dead letters' })).toEqual([]);
    return { tickets: settled.tickets, reserved: settled.reserved };
  } finally {
    await admin.close();
    await ticketsDb.close();
    await ordersDb.close();
  }
}
