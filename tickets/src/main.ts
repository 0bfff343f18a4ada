import mongoose from 'mongoose';
import {
  connectBus,
  createLogger,
  loadConfigOrExit,
  OutboxRelay,
  ServiceMetrics,
  type Logger,
  serveHttp,
  serviceReadiness,
} from '@ticketing/common';
import { Ticket } from './tickets/ticket.model';
import { loadConfig, type TicketsConfig } from './config';
import { createApp } from './app';
import { createListeners, ticketsStats } from './events/listeners';
import { connectDatabase } from './database';

/** Past this, shutdown gives up waiting and exits with 1 (Kubernetes kills at 30 s anyway). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

export interface RunningTickets {
  port: number;
  /** Stops taking requests and events, finishes the ones in flight, then closes every connection. */
  stop(): Promise<void>;
}

/** Connects everything and starts serving. Exported so that a test can run the real start-up. */
export async function startTickets(config: TicketsConfig, logger: Logger): Promise<RunningTickets> {
  // While the database is unreachable a request fails within 2 s (503) instead of hanging.
  await connectDatabase(config.MONGO_URL, logger);

  const bus = await connectBus(config, logger.child({ component: 'bus' }));
  const relay = new OutboxRelay(Ticket, bus, { logger: logger.child({ component: 'outbox' }) });
  const listeners = createListeners(bus, relay, logger);
  const metrics = new ServiceMetrics('tickets')
    .observeListeners([listeners.orderCreated, listeners.orderUpdated])
    .observeOutbox(relay)
    .observeConsumers(bus);

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
  logger.info({ port: http.port }, 'tickets listening');

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

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig());
  const logger = createLogger({ service: 'tickets', pod: config.NATS_CLIENT_NAME }, config.LOG_LEVEL);
  let service: RunningTickets | undefined;
  let exiting = false;

  const shutdown = (why: string, code: number) => {
    if (exiting) return;
    exiting = true;
    logger.info({ why }, 'tickets shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'tickets: shutdown took too long, forcing exit');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    (service?.stop() ?? Promise.resolve()).then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'tickets: shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  // A stray rejection is a bug to fix, not a reason to drop every request in flight: log it loudly.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  // After an uncaught exception the process state is unknown: log, drain, exit non-zero.
  process.on('uncaughtException', (err) => {
    logger.error({ err }, 'uncaught exception');
    shutdown('uncaughtException', 1);
  });

  try {
    service = await startTickets(config, logger);
  } catch (err) {
    logger.error({ err }, 'tickets failed to start');
    process.exit(1);
  }
}

if (require.main === module) void main();
