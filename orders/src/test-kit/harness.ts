import { JetStreamBus, OutboxRelay, ordersOpenApi, silentLogger } from '@ticketing/common';
import {
  TEST_JWT_KEY,
  contractChecked,
  failOnContractViolations,
  startNatsServer,
  testMongoUrl,
  type NatsServerHandle,
} from '@ticketing/common/testing';
import mongoose from 'mongoose';
import { createApp } from '../app';
import { Order } from '../orders/order.model';
import { TicketCreatedListener } from '../tickets/ticket-created.listener';
import { TicketUpdatedListener } from '../tickets/ticket-updated.listener';
import { Ticket } from '../tickets/ticket-replica.model';

export interface Harness {
  /** This file's database, to reconnect to it as a restarted process would. */
  mongoUrl: string;
  nats: NatsServerHandle;
  bus: JetStreamBus;
  relay: OutboxRelay;
  /** The app behind the OpenAPI contract checker (see `violations`). */
  app: ReturnType<typeof createApp>;
  /** Exchanges that did not match the OpenAPI document. */
  violations: string[];
  /** Started only when asked for. */
  listeners?: { created: TicketCreatedListener; updated: TicketUpdatedListener };
  close(): Promise<void>;
}

/**
 * Real servers for one test file: a fresh database on the run's MongoDB-protocol server, a
 * nats-server of its own, the outbox relay and the app built by createApp, as main.ts wires them.
 */
export async function startHarness(
  options: { clock?: () => Date; expirationSeconds?: number; listeners?: boolean; violations?: string[] } = {},
): Promise<Harness> {
  const mongoUrl = testMongoUrl('orders');
  await mongoose.connect(mongoUrl);
  await Promise.all([Ticket.init(), Order.init()]);
  const nats = await startNatsServer();
  const bus = await JetStreamBus.connect({ servers: nats.url, name: 'orders-test' });
  const relay = new OutboxRelay(Order, bus, { sweepIntervalMs: 200 });
  const violations = options.violations ?? [];
  const app = contractChecked(
    createApp({
      jwtKey: TEST_JWT_KEY,
      relay,
      logger: silentLogger,
      readiness: { mongo: () => mongoose.connection.readyState === mongoose.ConnectionStates.connected, nats: () => bus.isConnected() },
      clock: options.clock,
      expirationSeconds: options.expirationSeconds ?? 900,
    }),
    ordersOpenApi,
    violations,
  ).app;
  const listeners = options.listeners ? { created: new TicketCreatedListener(bus), updated: new TicketUpdatedListener(bus) } : undefined;
  await Promise.all([listeners?.created.listen(), listeners?.updated.listen()]);
  return {
    mongoUrl,
    nats,
    bus,
    relay,
    app,
    violations,
    listeners,
    close: async () => {
      await Promise.all([listeners?.created.close(), listeners?.updated.close()]);
      await relay.stop();
      await bus.close();
      await nats.destroy();
      await mongoose.disconnect();
    },
  };
}

/**
 * The harness for the tests of one file: started before them, closed after them. The object is
 * filled in by `beforeAll`, so read its fields inside tests and hooks, not at the top of the file.
 */
export function useHarness(options: Parameters<typeof startHarness>[0] = {}): Harness {
  const harness = {} as Harness;
  const violations: string[] = [];
  // every exchange is checked against the OpenAPI document: a mismatch fails the test that caused it
  failOnContractViolations(violations);
  beforeAll(async () => {
    Object.assign(harness, await startHarness({ ...options, violations }));
  });
  afterAll(async () => {
    await harness.close();
  });
  return harness;
}
