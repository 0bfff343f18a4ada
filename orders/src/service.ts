import { ordersOpenApi, startEventService, type Logger, type RunningService } from '@ticketing/common';
import { createApp } from './app';
import type { OrdersConfig } from './config';
import { connectDatabase } from './database';
import { createListeners, serviceStats } from './listeners';
import { ExpiryWorker } from './orders/expiry-worker';
import { Order } from './orders/order.model';

/** The service's parts, as the start-up below and the test harness put them together. */
export const serviceParts = {
  name: 'orders',
  connectDatabase,
  outboxModel: Order,
  createListeners,
  stats: serviceStats,
  openApi: ordersOpenApi,
};

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export function startService(config: OrdersConfig, logger: Logger): Promise<RunningService> {
  return startEventService({
    ...serviceParts,
    config,
    logger,
    createApp: (deps) => createApp({ ...deps, expirationSeconds: config.ORDER_EXPIRATION_SECONDS }),
    // Every copy looks for expired orders: the deadline is stored, so a restart loses none.
    workers: ({ relay, logger }) => [
      new ExpiryWorker({ relay, intervalMs: config.EXPIRY_CHECK_INTERVAL_MS, logger: logger.child({ component: 'expiry' }) }),
    ],
  });
}
