import { startEventService, ticketsOpenApi, type Logger, type RunningService } from '@ticketing/common';
import { createApp } from './app';
import type { TicketsConfig } from './config';
import { connectDatabase } from './database';
import { createListeners, serviceStats } from './listeners';
import { Ticket } from './tickets/ticket.model';

/** The service's parts, as the start-up below and the test harness put them together. */
export const serviceParts = {
  name: 'tickets',
  connectDatabase,
  outboxModel: Ticket,
  createListeners,
  stats: serviceStats,
  openApi: ticketsOpenApi,
};

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export function startService(config: TicketsConfig, logger: Logger): Promise<RunningService> {
  return startEventService({ ...serviceParts, config, logger, createApp });
}
