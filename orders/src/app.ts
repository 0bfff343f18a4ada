import type { Express } from 'express';
import {
  createServiceApp,
  ListingGate,
  openApiRouter,
  ordersOpenApi,
  type Logger,
  type OutboxRelay,
  type RateLimitOptions,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@ticketing/common';
import { cancelOrderRouter } from './orders/cancel-order.route';
import { createOrderRouter } from './orders/create-order.route';
import { listOrdersRouter } from './orders/list-orders.route';
import { showOrderRouter } from './orders/show-order.route';
import { ordersStats } from './stats';
import { showTicketReplicaRouter } from './tickets/show-ticket-replica.route';

export interface AppDeps {
  /** `GET /metrics` (Prometheus); none in tests that do not look at it. */
  metrics?: ServiceMetrics;
  jwtKey: string;
  /** The longest lifetime a token may declare (JWT_MAX_LIFETIME_SECONDS); 24 h if not given. */
  maxTokenLifetimeSeconds?: number;
  /** Publishes the events each write stored in its record. */
  relay: OutboxRelay;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** Proxies in front (TRUST_PROXY_HOPS); 1 if not given. */
  trustProxyHops?: number;
  /** `GET /internal/stats`; main.ts passes the listeners' counts. */
  stats?: () => unknown;
  /** The per-client rate limit (RATE_LIMIT_*); the defaults if not given. */
  rateLimit?: RateLimitOptions;
  /** Bounds the listing queries of this copy (LISTING_*); one with the defaults if not given. */
  listings?: ListingGate;
  /** Injected so tests can create orders "15 minutes ago". */
  clock?: () => Date;
  expirationSeconds: number;
}

/** The orders HTTP API. Never listens: main.ts and tests decide where it runs. */
export function createApp(deps: AppDeps): Express {
  const listings = deps.listings ?? new ListingGate();
  const routeDeps = {
    relay: deps.relay,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    expirationSeconds: deps.expirationSeconds,
  };
  return createServiceApp({
    ...deps,
    stats: deps.stats ?? ordersStats(deps.relay),
    routers: [
      // Before `/api/orders/:id`, which would otherwise take "openapi.json" or "tickets" for an order id.
      openApiRouter('/api/orders/openapi.json', ordersOpenApi),
      showTicketReplicaRouter(listings),
      createOrderRouter(routeDeps),
      listOrdersRouter(listings),
      showOrderRouter(),
      cancelOrderRouter(routeDeps),
    ],
  });
}
