import type { JetStreamBus, ReadinessCheck } from '@ticketing/common';
import mongoose from 'mongoose';

/** A ping slower than this counts as "not ready". */
const PING_TIMEOUT_MS = 800;

/** What `/readyz` checks: both connections up, and this copy not shutting down. */
export function readinessChecks(
  bus: Pick<JetStreamBus, 'isConnected'>,
  isStopping: () => boolean = () => false,
): Record<string, ReadinessCheck> {
  return {
    mongo: () => mongoose.connection.readyState === mongoose.ConnectionStates.connected && pingDatabase(),
    nats: () => bus.isConnected(),
    // Leave the Service's endpoints as soon as shutdown starts, before connections close.
    accepting: () => !isStopping(),
  };
}

/**
 * The driver keeps saying "connected" for seconds after the server died (until a heartbeat
 * fails), so readiness asks the server itself.
 */
function pingDatabase(): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db) return Promise.resolve(false);
  const ping = db.command({ ping: 1 }).then(
    () => true,
    () => false,
  );
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PING_TIMEOUT_MS).unref());
  return Promise.race([ping, timeout]);
}
