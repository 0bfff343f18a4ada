import { JetStreamBus, OutboxRelay, type Logger, serviceReadiness } from '@ticketing/common';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import mongoose from 'mongoose';
import { createApp } from './app';
import type { OrdersConfig } from './config';
import { ExpiryWorker } from './orders/expiry-worker';
import { Order } from './orders/order.model';
import { ordersStats } from './stats';
import { TicketCreatedListener } from './tickets/ticket-created.listener';
import { TicketUpdatedListener } from './tickets/ticket-updated.listener';
import { Ticket } from './tickets/ticket.model';

export interface RunningOrders {
  port: number;
  /** Graceful: stop taking requests and finish those in flight, then stop the workers and disconnect. */
  stop(): Promise<void>;
}

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export async function startOrders(config: OrdersConfig, logger: Logger): Promise<RunningOrders> {
  // While the database is down, requests fail within 2 s (503 from the error handler) instead of
  // queueing until the client gives up.
  mongoose.set('bufferTimeoutMS', 2000);
  await mongoose.connect(config.MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  await Promise.all([Ticket.init(), Order.init()]);

  const bus = await JetStreamBus.connect({
    servers: config.NATS_URL,
    name: config.NATS_CLIENT_NAME,
    replicas: config.JETSTREAM_REPLICAS,
    logger,
  });
  const listeners = { created: new TicketCreatedListener(bus, logger), updated: new TicketUpdatedListener(bus, logger) };
  await Promise.all([listeners.created.listen(), listeners.updated.listen()]);

  let stopping: Promise<void> | undefined;
  const relay = new OutboxRelay(Order, bus, { logger });
  relay.start();
  const expiry = new ExpiryWorker({ relay, intervalMs: config.EXPIRY_CHECK_INTERVAL_MS, logger });
  expiry.start();

  const app = createApp({
    jwtKey: config.JWT_KEY,
    relay,
    logger,
    expirationSeconds: config.ORDER_EXPIRATION_SECONDS,
    stats: ordersStats(relay, listeners),
    readiness: serviceReadiness(bus, () => stopping !== undefined),
  });
  const server = await listen(app, config.PORT);

  const stop = async () => {
    await closeServer(server);
    await Promise.all([listeners.created.close(), listeners.updated.close()]);
    await expiry.stop();
    await relay.stop();
    await bus.close();
    await mongoose.disconnect();
  };
  return { port: (server.address() as AddressInfo).port, stop: () => (stopping ??= stop()) };
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

/**
 * Stops accepting connections and lets requests in flight finish. Keep-alive sockets are closed as
 * soon as they are idle, including those whose last request finishes during the shutdown, which
 * would otherwise hold `close()` open for the keep-alive timeout.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const dropIdle = setInterval(() => server.closeIdleConnections(), 50);
    server.close((err) => {
      clearInterval(dropIdle);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
