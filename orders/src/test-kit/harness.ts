import { ordersOpenApi } from '@ticketing/common';
import {
  startServiceHarness,
  useServiceHarness,
  type HarnessOptions,
  type ServiceHarness,
  type ServiceUnderTest,
} from '@ticketing/common/testing';
import { createApp } from '../app';
import { connectDatabase } from '../database';
import { createListeners, serviceStats, type ServiceListeners } from '../listeners';
import { Order } from '../orders/order.model';

export type Harness = ServiceHarness<ServiceListeners>;

export interface OrdersHarnessOptions extends HarnessOptions {
  /** Injected so tests can create orders "15 minutes ago". */
  clock?: () => Date;
  expirationSeconds?: number;
}

/** The orders service as service.ts wires it (see `startServiceHarness`). */
const orders: ServiceUnderTest<ServiceListeners, OrdersHarnessOptions> = {
  name: 'orders',
  connectDatabase: (url) => connectDatabase(url),
  outboxModel: Order,
  openApi: ordersOpenApi,
  createListeners,
  stats: serviceStats,
  createApp: (deps, options) => createApp({ ...deps, clock: options.clock, expirationSeconds: options.expirationSeconds ?? 900 }),
};

/** Real servers for a test that manages their lifetime itself (`close()` when done). */
export const startHarness = (options: OrdersHarnessOptions = {}): Promise<Harness> => startServiceHarness(orders, options);

/** Real servers for the tests of one `describe`: started before them, closed after them. */
export const useHarness = (options: OrdersHarnessOptions = {}): Harness => useServiceHarness(orders, options);
