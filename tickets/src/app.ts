import type { Express } from 'express';
import { createServiceApp, type Logger, type OutboxRelay, type ReadinessCheck } from '@ticketing/common';
import { createTicketRouter } from './tickets/create-ticket.route';
import { listTicketsRouter } from './tickets/list-tickets.route';
import { showTicketRouter } from './tickets/show-ticket.route';
import { updateTicketRouter } from './tickets/update-ticket.route';

export interface AppDeps {
  jwtKey: string;
  /** Publishes the events each write stored in its record. */
  relay: OutboxRelay;
  logger: Logger;
  /** `/readyz` answers 200 only when every check is true. */
  readiness: Record<string, ReadinessCheck>;
  /** `/internal/stats`: listener and outbox counters of this copy. */
  stats?: () => unknown;
}

/** The tickets HTTP API. Never listens: `main.ts` does, tests use supertest. */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    ...deps,
    stats: deps.stats ?? (() => ({ listeners: {}, outbox: { published: deps.relay.published } })),
    routers: [createTicketRouter(deps), listTicketsRouter(), showTicketRouter(), updateTicketRouter(deps)],
  });
}
