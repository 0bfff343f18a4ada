import mongoose from 'mongoose';
import type { Express } from 'express';
import { JetStreamBus, OutboxRelay, silentLogger, serviceReadiness, ticketsOpenApi, type OutboxRelayOptions } from '@ticketing/common';
import {
  contractChecked,
  failOnContractViolations,
  startNatsServer,
  testMongoUrl,
  TEST_JWT_KEY,
  type NatsServerHandle,
} from '@ticketing/common/testing';
import { createApp } from '../app';
import { createListeners, ticketsStats, type TicketsListeners } from '../listeners';
import { Ticket } from '../tickets/ticket.model';
import { connectDatabase } from '../database';

export interface TicketsHarness {
  app: Express;
  bus: JetStreamBus;
  relay: OutboxRelay;
  listeners: TicketsListeners;
  nats: NatsServerHandle;
}

/**
 * The service wired as `main.ts` wires it, on real servers: a nats-server of its own and a fresh
 * database for this test file. Call at the top of a `describe`; the fields are set in `beforeAll`.
 * Listeners only run when asked for, so route tests see no event handling they did not cause.
 * Every exchange with the app is checked against the OpenAPI document: a test whose requests get
 * an answer the document does not describe fails.
 */
export function useTicketsHarness(options: { listeners?: boolean; relay?: OutboxRelayOptions } = {}): TicketsHarness {
  const harness = {} as TicketsHarness;
  const violations: string[] = [];
  failOnContractViolations(violations);
  beforeAll(async () => {
    harness.nats = await startNatsServer();
    await connectDatabase(testMongoUrl('tickets'));
    harness.bus = await JetStreamBus.connect({ servers: harness.nats.url, name: 'tickets-test' });
    harness.relay = new OutboxRelay(Ticket, harness.bus, { sweepIntervalMs: 200, ...options.relay });
    harness.listeners = createListeners(harness.bus, harness.relay);
    const app = createApp({
      jwtKey: TEST_JWT_KEY,
      relay: harness.relay,
      logger: silentLogger,
      readiness: serviceReadiness(harness.bus),
      stats: () => ticketsStats(harness.listeners, harness.relay),
    });
    harness.app = contractChecked(app, ticketsOpenApi, violations).app;
    if (options.listeners) {
      await harness.listeners.orderCreated.listen();
      await harness.listeners.orderUpdated.listen();
    }
    harness.relay.start();
  });
  afterAll(async () => {
    await harness.listeners?.orderCreated.close();
    await harness.listeners?.orderUpdated.close();
    await harness.relay?.stop();
    await harness.bus?.close();
    if (mongoose.connection.readyState === mongoose.ConnectionStates.connected) await mongoose.connection.dropDatabase();
    await mongoose.disconnect();
    await harness.nats?.destroy();
  });
  return harness;
}
