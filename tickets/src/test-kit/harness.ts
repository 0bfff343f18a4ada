import { serviceHarnesses, type HarnessOptions, type ServiceHarness, type ServiceUnderTest } from '@ticketing/common/testing';
import { createApp } from '../app';
import type { ServiceListeners } from '../listeners';
import { serviceParts } from '../service';

export type Harness = ServiceHarness<ServiceListeners>;

/** The tickets service as service.ts wires it (see `startServiceHarness`). */
export const serviceUnderTest: ServiceUnderTest<ServiceListeners, HarnessOptions> = {
  ...serviceParts,
  createApp: (deps) => createApp(deps),
};

export const { startHarness, useHarness } = serviceHarnesses(serviceUnderTest);
