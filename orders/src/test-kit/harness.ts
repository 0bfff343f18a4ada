import { serviceHarnesses, type HarnessOptions, type ServiceHarness, type ServiceUnderTest } from '@ticketing/common/testing';
import { createApp } from '../app';
import type { ServiceListeners } from '../listeners';
import { serviceParts } from '../service';

export type Harness = ServiceHarness<ServiceListeners>;

export interface OrdersHarnessOptions extends HarnessOptions {
  /** Injected so tests can create orders "15 minutes ago". */
  clock?: () => Date;
  expirationSeconds?: number;
}

/** The orders service as service.ts wires it (see `startServiceHarness`). */
export const serviceUnderTest: ServiceUnderTest<ServiceListeners, OrdersHarnessOptions> = {
  ...serviceParts,
  createApp: (deps, options) => createApp({ ...deps, clock: options.clock, expirationSeconds: options.expirationSeconds ?? 900 }),
};

export const { startHarness, useHarness } = serviceHarnesses(serviceUnderTest);
