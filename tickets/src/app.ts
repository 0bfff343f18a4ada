import express, { type Express } from 'express';
import { currentUser, errorHandler, healthRouter, notFound, type Logger, type OutboxRelay, type ReadinessCheck } from '@ticketing/common';
import { createTicketRouter } from './tickets/create-ticket.route';
import { listTicketsRouter } from './tickets/list-tickets.route';
import { showTicketRouter } from './tickets/show-ticket.route';
import { updateTicketRouter } from './tickets/update-ticket.route';
import { requestLog } from './request-log';

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
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(deps.logger));
  app.use(express.json({ limit: '100kb' }));
  app.use(healthRouter(deps.readiness));
  app.get('/internal/stats', (_req, res) => {
    res.json(deps.stats?.() ?? { listeners: {}, outbox: { published: deps.relay.published } });
  });

  app.use(currentUser(deps.jwtKey));
  app.use(createTicketRouter(deps));
  app.use(listTicketsRouter());
  app.use(showTicketRouter());
  app.use(updateTicketRouter(deps));

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
