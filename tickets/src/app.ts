import type { Express } from 'express';
import {
  createServiceApp,
  ListingGate,
  openApiRouter,
  ticketsOpenApi,
  type Logger,
  type OutboxRelay,
  type RateLimitOptions,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@ticketing/common';
import { createTicketRouter } from './tickets/create-ticket.route';
import { listTicketsRouter } from './tickets/list-tickets.route';
import { showTicketRouter } from './tickets/show-ticket.route';
import { updateTicketRouter } from './tickets/update-ticket.route';
import { WrittenTickets } from './tickets/written-tickets';

export interface AppDeps {
  /** `GET /metrics` (Prometheus); none in tests that do not look at it. */
  metrics?: ServiceMetrics;
  jwtKey: string;
  /** The longest lifetime a token may declare (JWT_MAX_LIFETIME_SECONDS); 24 h if not given. */
  maxTokenLifetimeSeconds?: number;
  /** Publishes the events each write stored in its record. */
  relay: OutboxRelay;
  logger: Logger;
  /** `/readyz` answers 200 only when every check is true. */
  readiness: Record<string, ReadinessCheck>;
  /** Proxies in front (TRUST_PROXY_HOPS); 1 if not given. */
  trustProxyHops?: number;
  /** `/internal/stats`: listener and outbox counters of this copy. */
  stats?: () => unknown;
  /** The per-client rate limit (RATE_LIMIT_*); the defaults if not given. */
  rateLimit?: RateLimitOptions;
  /** Bounds the listing queries of this copy (LISTING_*); one with the defaults if not given. */
  listings?: ListingGate;
  /** The tickets this copy wrote last, so that an edit can skip its read (one per copy; made here if absent). */
  written?: WrittenTickets;
}

/** The tickets HTTP API. Never listens: `main.ts` does, tests use supertest. */
export function createApp(deps: AppDeps): Express {
  const written = deps.written ?? new WrittenTickets();
  return createServiceApp({
    ...deps,
    stats: deps.stats ?? (() => ({ listeners: {}, outbox: { published: deps.relay.published } })),
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
