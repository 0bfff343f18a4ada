import type { Express } from 'express';
import { createServiceApp, ListingGate, openApiRouter, ticketsOpenApi, type AppDepsBase } from '@ticketing/common';
import { createTicketRouter } from './tickets/create-ticket.route';
import { listTicketsRouter } from './tickets/list-tickets.route';
import { showTicketRouter } from './tickets/show-ticket.route';
import { updateTicketRouter } from './tickets/update-ticket.route';
import { WrittenTickets } from './tickets/written-tickets';

export interface AppDeps extends AppDepsBase {
  /** The tickets this copy wrote last, so that an edit can skip its read (one per copy; made here if absent). */
  written?: WrittenTickets;
}

/** The tickets HTTP API. Never listens: service.ts does, tests use supertest. */
export function createApp(deps: AppDeps): Express {
  const written = deps.written ?? new WrittenTickets();
  return createServiceApp({
    ...deps,
    stats: deps.stats ?? (() => ({ outbox: { published: deps.relay.published } })),
    routers: [
      // before `/api/tickets/:id`, which would take "openapi.json" for a ticket id
      openApiRouter('/api/tickets/openapi.json', ticketsOpenApi),
      createTicketRouter({ ...deps, written }),
      listTicketsRouter(deps.listings ?? new ListingGate()),
      showTicketRouter(),
      updateTicketRouter({ ...deps, written }),
    ],
  });
}
