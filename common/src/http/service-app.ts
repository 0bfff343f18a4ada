import express, { type Express, type Router } from 'express';
import type { HelmetOptions } from 'helmet';
import type { Logger } from '../logger';
import type { ServiceMetrics } from '../metrics/service-metrics';
import { jsonWritesOnly, securityHeaders } from './browser-guards';
import { clientRateLimit, DEFAULT_RATE_LIMIT, type RateLimitOptions } from './client-rate-limit';
import { currentUser } from './current-user';
import { errorHandler, notFound } from './error-handler';
import { healthRouter, type ReadinessCheck } from './health';
import { requestContext, requestLog } from './request-log';

export interface ServiceAppOptions {
  logger: Logger;
  jwtKey: string;
  /** The longest lifetime a token may declare (JWT_MAX_LIFETIME_SECONDS); 24 h if not given. */
  maxTokenLifetimeSeconds?: number;
  /** `/readyz` answers 200 only when every check is true. */
  readiness: Record<string, ReadinessCheck>;
  /** `GET /internal/stats`: this copy's listener and outbox counters. */
  stats: () => unknown;
  /** The service's routes, in the order they are tried. */
  routers: Router[];
  /** Served at `GET /metrics` in Prometheus's text format; request durations are timed into it. */
  metrics?: ServiceMetrics;
  /**
   * How many proxies stand in front (ingress or gateway: 1). The client's address and scheme are
   * taken from that many hops of `X-Forwarded-*` and no further, so a client cannot choose its own
   * address by sending the header itself.
   */
  trustProxyHops?: number;
  /** The per-client rate limit on everything after the probes, metrics and counters; DEFAULT_RATE_LIMIT if not given. */
  rateLimit?: RateLimitOptions;
  /** helmet's content-security policy option, for an app that serves pages; helmet's default otherwise. */
  contentSecurityPolicy?: HelmetOptions['contentSecurityPolicy'];
}

/**
 * The Express app every service is: request ids and a log line per request, security headers,
 * JSON-only writes, Prometheus metrics, JSON bodies, probes, counters, the signed-in user, the service's routes, then one JSON shape for every error and for
 * unknown paths. Never listens: `main.ts` does, tests use supertest.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxyHops ?? 1);
  app.use(requestLog(options.logger));
  const metrics = options.metrics;
  if (metrics) app.use(metrics.httpMiddleware());
  app.use(securityHeaders(options.contentSecurityPolicy));
  app.use(jsonWritesOnly);
  if (metrics) {
    // Not under /api: the ingress routes only /api/…, so only the cluster's scraper reaches it.
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }
  app.use(express.json({ limit: '100kb' }));
  app.use(requestContext);
  app.use(healthRouter(options.readiness));
  app.get('/internal/stats', (_req, res) => {
    res.json(options.stats());
  });
  app.use(currentUser(options.jwtKey, { maxLifetimeSeconds: options.maxTokenLifetimeSeconds }));
  app.use(
    clientRateLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT, options.logger, metrics && ((policy) => metrics.rateLimited.inc({ policy }))),
  );
  for (const router of options.routers) app.use(router);
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}
