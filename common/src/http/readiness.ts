import mongoose from 'mongoose';
import type { ReadinessCheck } from './health';

/** A ping slower than this counts as "not ready". */
const PING_TIMEOUT_MS = 800;

/**
 * What a service's `/readyz` checks: MongoDB answers, the bus is connected, and this copy is not
 * shutting down (so it leaves the Service's endpoints before its connections close).
 */
export function serviceReadiness(
  bus: { isConnected(): boolean },
  isStopping: () => boolean = () => false,
  connection: mongoose.Connection = mongoose.connection,
): Record<string, ReadinessCheck> {
  return {
    mongo: () => connection.readyState === mongoose.ConnectionStates.connected && pingDatabase(connection),
    nats: () => bus.isConnected(),
    accepting: () => !isStopping(),
  };
}

/**
 * The driver keeps saying "connected" for seconds after the server died (until a heartbeat
 * fails), so readiness asks the server itself.
 */
function pingDatabase(connection: mongoose.Connection): Promise<boolean> {
  const db = connection.db;
  if (!db) return Promise.resolve(false);
  const ping = db.command({ ping: 1 }).then(
    () => true,
    () => false,
  );
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PING_TIMEOUT_MS).unref());
  return Promise.race([ping, timeout]);
}
