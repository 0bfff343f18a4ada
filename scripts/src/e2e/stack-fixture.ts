import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import mongoose from 'mongoose';
import { TEST_JWT_KEY, readDeadLetters, testToken, uniqueDatabaseName, waitFor } from '@ticketing/common/testing';
import { JetStreamBus, type ListenerStats } from '@ticketing/common';
import { startStack, type Stack, type StackOptions } from '../stack/stack';

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

/** Per-copy counters each service exposes at /internal/stats. */
export async function listenerStats(copy: { json<T>(p: string): Promise<T> }): Promise<Record<string, ListenerStats>> {
  const stats = await copy.json<{ listeners: Record<string, ListenerStats> }>('/internal/stats');
  return stats.listeners;
}

/**
 * Every ticket's version in tickets equals its replica's in orders, no event waits in any outbox,
 * and the dead-letter stream is empty. Read from the databases and the stream themselves.
 */
export async function crossServiceCheck(stack: Stack & { natsCluster?: Stack['natsCluster'] }): Promise<void> {
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
      const [tickets, replicas, ticketOutboxes, orderOutboxes] = await Promise.all([
        ticketsDb
          .collection('tickets')
          .find({}, { projection: { version: 1 } })
          .toArray(),
        ordersDb
          .collection('tickets')
          .find({}, { projection: { version: 1 } })
          .toArray(),
        ticketsDb.collection('tickets').countDocuments({ 'outbox.0': { $exists: true } }),
        ordersDb.collection('orders').countDocuments({ 'outbox.0': { $exists: true } }),
      ]);
      const replicaVersion = new Map(replicas.map((r) => [String(r._id), r.version as number]));
      const differing = tickets.filter((t) => replicaVersion.get(String(t._id)) !== t.version).map((t) => String(t._id));
      return { tickets: tickets.length, differing: differing.slice(0, 5), ticketOutboxes, orderOutboxes };
    };
    // The outbox removes published events a little after publishing them: poll until settled.
    await waitFor(
      async () => {
        const s = await state();
        return s.differing.length === 0 && s.ticketOutboxes === 0 && s.orderOutboxes === 0;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'versions to match and outboxes to empty' },
    );
    const settled = await state();
    expect(settled.tickets).toBeGreaterThan(0);
    expect(settled).toMatchObject({ differing: [], ticketOutboxes: 0, orderOutboxes: 0 });
    expect(await waitFor(() => readDeadLetters(admin), { timeoutMs: 30_000, intervalMs: 500, what: 'the dead letters' })).toEqual([]);
  } finally {
    await admin.close();
    await ticketsDb.close();
    await ordersDb.close();
  }
}
