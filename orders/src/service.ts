import mongoose from 'mongoose';
import { connectBus, OutboxRelay, ServiceMetrics, type Logger, type RunningService, serveHttp, serviceReadiness } from '@ticketing/common';
import { Order } from './orders/order.model';
import type { OrdersConfig } from './config';
import { createApp } from './app';
import { ordersStats } from './listeners';
import { connectDatabase } from './database';
import { ExpiryWorker } from './orders/expiry-worker';
import { ReplicaVersions } from './tickets/replica-versions';
import { TicketCreatedListener } from './tickets/ticket-created.listener';
import { TicketUpdatedListener } from './tickets/ticket-updated.listener';

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export async function startService(config: OrdersConfig, logger: Logger): Promise<RunningService> {
  // While the database is unreachable a request fails within 2 s (503) instead of hanging.
  await connectDatabase(config.MONGO_URL, logger);

  const bus = await connectBus(config, logger.child({ component: 'bus' }));
  const relay = new OutboxRelay(Order, bus, { logger: logger.child({ component: 'outbox' }) });
  const versions = new ReplicaVersions();
  const listeners = {
    created: new TicketCreatedListener(bus, logger.child({ listener: 'ticket:created' }), versions),
    updated: new TicketUpdatedListener(bus, logger.child({ listener: 'ticket:updated' }), versions),
  };
  const metrics = new ServiceMetrics('orders').observeListeners([listeners.created, listeners.updated]).observeOutbox(relay);
  const expiry = new ExpiryWorker({ relay, intervalMs: config.EXPIRY_CHECK_INTERVAL_MS, logger: logger.child({ component: 'expiry' }) });

  let stopping = false;
  const app = createApp({
    jwtKey: config.JWT_KEY,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    relay,
    logger,
    readiness: serviceReadiness(bus, () => stopping),
    stats: ordersStats(relay, listeners),
    metrics,
    expirationSeconds: config.ORDER_EXPIRATION_SECONDS,
  });

  await listeners.created.listen();
  await listeners.updated.listen();
  relay.start();
  expiry.start();

  const http = await serveHttp(app, config.PORT);
  logger.info('orders listening', { port: http.port });

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    await http.close();
    // Each listener finishes the event it is handling; the rest stay on the bus for another copy.
    await Promise.all([listeners.created.close(), listeners.updated.close()]);
    await expiry.stop();
    await relay.stop();
    await bus.close();
    await mongoose.disconnect();
  };
  return { port: http.port, stop: () => (stopped ??= stop()) };
}
