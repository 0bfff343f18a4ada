import { currentUser, errorHandler, healthRouter, notFound, type Logger, type OutboxRelay, type ReadinessCheck } from '@ticketing/common';
import express, { type Express } from 'express';
import { cancelOrderRouter } from './orders/cancel-order.route';
import { createOrderRouter } from './orders/create-order.route';
import { listOrdersRouter } from './orders/list-orders.route';
import { showOrderRouter } from './orders/show-order.route';
import { ordersStats } from './stats';
import { showTicketReplicaRouter } from './tickets/show-ticket-replica.route';

export interface AppDeps {
  jwtKey: string;
  /** Publishes the events each write stored in its record. */
  relay: OutboxRelay;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** `GET /internal/stats`; main.ts passes the listeners' counts. */
  stats?: () => unknown;
  /** Injected so tests can create orders "15 minutes ago". */
  clock?: () => Date;
  expirationSeconds: number;
}

/** The orders HTTP API. Never listens: main.ts and tests decide where it runs. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind the ingress: the client's address and scheme come from its headers.
  app.set('trust proxy', true);
  app.use(express.json({ limit: '100kb' }));
  app.use(healthRouter(deps.readiness));
  const stats = deps.stats ?? ordersStats(deps.relay);
  app.get('/internal/stats', (_req, res) => {
    res.json(stats());
  });

  app.use(currentUser(deps.jwtKey));
  const routeDeps = {
    relay: deps.relay,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    expirationSeconds: deps.expirationSeconds,
  };
  // Before `/api/orders/:id`, which would otherwise take "tickets" for an order id.
  app.use(showTicketReplicaRouter());
  app.use(createOrderRouter(routeDeps));
  app.use(listOrdersRouter());
  app.use(showOrderRouter());
  app.use(cancelOrderRouter(routeDeps));

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
