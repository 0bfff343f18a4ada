import { startEventService, type Logger, type RunningService } from '@ticketing/common';
import { createApp } from './app';
import type { TicketsConfig } from './config';
import { connectDatabase } from './database';
import { createListeners, serviceStats } from './listeners';
import { Ticket } from './tickets/ticket.model';

/** Connects everything and starts serving. main.ts owns the process (signals, exit codes). */
export function startService(config: TicketsConfig, logger: Logger): Promise<RunningService> {
  return startEventService({
    name: 'tickets',
    config,
    logger,
    connectDatabase,
    outboxModel: Ticket,
    createListeners,
    stats: serviceStats,
    createApp,
  });
}
