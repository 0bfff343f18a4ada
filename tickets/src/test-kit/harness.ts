import { ticketsOpenApi } from '@ticketing/common';
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
import { Ticket } from '../tickets/ticket.model';

export type Harness = ServiceHarness<ServiceListeners>;

/** The tickets service as service.ts wires it (see `startServiceHarness`). */
const tickets: ServiceUnderTest<ServiceListeners, HarnessOptions> = {
  name: 'tickets',
  connectDatabase: (url) => connectDatabase(url),
  outboxModel: Ticket,
  openApi: ticketsOpenApi,
  createListeners,
  stats: serviceStats,
  createApp: (deps) => createApp(deps),
};

/** Real servers for a test that manages their lifetime itself (`close()` when done). */
export const startHarness = (options: HarnessOptions = {}): Promise<Harness> => startServiceHarness(tickets, options);

/** Real servers for the tests of one `describe`: started before them, closed after them. */
export const useHarness = (options: HarnessOptions = {}): Harness => useServiceHarness(tickets, options);
