import { connectBus, OutboxRelay, ServiceMetrics, type Logger, serveHttp, serviceReadiness } from '@ticketing/common';
import mongoose from 'mongoose';
import { createApp } from './app';
import type { OrdersConfig } from './config';
import { ExpiryWorker } from './orders/expiry-worker';
import { Order } from './orders/order.model';
import { ordersStats } from './stats';
import { ReplicaVersions } from './tickets/replica-versions';
import { ReplicationLag } from './tickets/replication-lag';
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

  const bus = await connectBus(config, logger);
  const versions = new ReplicaVersions();
  const metrics = new ServiceMetrics('orders');
  const lag = new ReplicationLag(metrics.registry);
  const listeners = {
    created: new TicketCreatedListener(bus, logger, versions, lag),
    updated: new TicketUpdatedListener(bus, logger, versions, lag),
  };
  await Promise.all([listeners.created.listen(), listeners.updated.listen()]);

  let stopping: Promise<void> | undefined;
  const relay = new OutboxRelay(Order, bus, { logger });
  relay.start();
  const expiry = new ExpiryWorker({ relay, intervalMs: config.EXPIRY_CHECK_INTERVAL_MS, logger });
  expiry.start();

  const app = createApp({
    jwtKey: config.JWT_KEY,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    relay,
    logger,
    expirationSeconds: config.ORDER_EXPIRATION_SECONDS,
    stats: ordersStats(relay, listeners),
    metrics: metrics.observeListeners([listeners.created, listeners.updated]).observeOutbox(relay).observeConsumers(bus),
    readiness: serviceReadiness(bus, () => stopping !== undefined),
  });
  const http = await serveHttp(app, config.PORT);

  const stop = async () => {
    await http.close();
    await Promise.all([listeners.created.close(), listeners.updated.close()]);
    await expiry.stop();
    await relay.stop();
    await bus.close();
    await mongoose.disconnect();
  };
  return { port: http.port, stop: () => (stopping ??= stop()) };
}
