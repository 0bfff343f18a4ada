import mongoose from 'mongoose';
import { connectBus, OutboxRelay, ServiceMetrics, type Logger, type RunningService, serveHttp, serviceReadiness } from '@ticketing/common';
import { Ticket } from './tickets/ticket.model';
import type { TicketsConfig } from './config';
import { createApp } from './app';
import { createListeners, ticketsStats } from './listeners';
import { connectDatabase } from './database';

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export async function startService(config: TicketsConfig, logger: Logger): Promise<RunningService> {
  // While the database is unreachable a request fails within 2 s (503) instead of hanging.
  await connectDatabase(config.MONGO_URL, logger);

  const bus = await connectBus(config, logger.child({ component: 'bus' }));
  const relay = new OutboxRelay(Ticket, bus, { logger: logger.child({ component: 'outbox' }) });
  const listeners = createListeners(bus, relay, logger);
  const metrics = new ServiceMetrics('tickets').observeListeners([listeners.orderCreated, listeners.orderUpdated]).observeOutbox(relay);

  let stopping = false;
  const app = createApp({
    jwtKey: config.JWT_KEY,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    relay,
    logger,
    readiness: serviceReadiness(bus, () => stopping),
    stats: () => ticketsStats(listeners, relay),
    metrics,
  });

  await listeners.orderCreated.listen();
  await listeners.orderUpdated.listen();
  relay.start();

  const http = await serveHttp(app, config.PORT);
  logger.info('tickets listening', { port: http.port });

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    await http.close();
    // Each listener finishes the event it is handling; the rest stay on the bus for another copy.
    await Promise.all([listeners.orderCreated.close(), listeners.orderUpdated.close()]);
    await relay.stop();
    await bus.close();
    await mongoose.disconnect();
  };
  return { port: http.port, stop: () => (stopped ??= stop()) };
}
