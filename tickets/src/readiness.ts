import mongoose from 'mongoose';
import type { JetStreamBus, ReadinessCheck } from '@ticketing/common';

/** What `/readyz` checks: both connections up, and the copy not shutting down. */
export function readinessChecks(
  bus: Pick<JetStreamBus, 'isConnected'>,
  isStopping: () => boolean = () => false,
): Record<string, ReadinessCheck> {
  return {
    mongo: () => mongoose.connection.readyState === mongoose.ConnectionStates.connected,
    nats: () => bus.isConnected(),
    // Out of the Service's endpoints as soon as shutdown starts, before connections close.
    accepting: () => !isStopping(),
  };
}
