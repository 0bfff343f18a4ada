import type { Express } from 'express';
import { createServiceApp, ListingGate, openApiRouter, ordersOpenApi, type AppDepsBase } from '@ticketing/common';
import { cancelOrderRouter } from './orders/cancel-order.route';
import { createOrderRouter } from './orders/create-order.route';
import { listOrdersRouter } from './orders/list-orders.route';
import { showOrderRouter } from './orders/show-order.route';
import { showTicketReplicaRouter } from './tickets/show-ticket-replica.route';

export interface AppDeps extends AppDepsBase {
  /** Injected so tests can create orders "15 minutes ago". */
  clock?: () => Date;
  expirationSeconds: number;
}

/** The orders HTTP API. Never listens: service.ts does, tests use supertest. */
export function createApp(deps: AppDeps): Express {
  const listings = deps.listings ?? new ListingGate();
  const routeDeps = {
    relay: deps.relay,
    clock: deps.clock ?? (() => new Date()),
    expirationSeconds: deps.expirationSeconds,
  };
  return createServiceApp({
    ...deps,
    stats: deps.stats ?? (() => ({ outbox: { published: deps.relay.published } })),
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
