import { createLogger, loadConfigOrExit } from '@ticketing/common';
import { loadConfig } from './config';
import { startOrders, type RunningOrders } from './service';

/** If shutting down takes longer than this, something hangs: exit anyway and let it restart. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

const config = loadConfigOrExit(() => loadConfig());
const logger = createLogger({ service: 'orders', pod: config.NATS_CLIENT_NAME }, config.LOG_LEVEL);

let service: RunningOrders | undefined;
let shuttingDown = false;

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'orders shutting down');
  setTimeout(() => {
    logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'orders: shutdown timed out, forcing exit');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  try {
    await service?.stop();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'orders: shutdown failed');
    process.exit(1);
  }
}

// Registered before start-up: a pod stopped while still waiting for NATS or MongoDB exits cleanly.
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));

startOrders(config, logger).then(
  (running) => {
    service = running;
    logger.info({ port: running.port }, 'orders listening');
  },
  (err: unknown) => {
    logger.error({ err }, 'orders: failed to start');
    process.exit(1);
  },
);
