import type { RequestListener } from 'node:http';
import mongoose, { type Model } from 'mongoose';
import { connectBus, type BusConfig, type ServiceBus } from '../bus/connect-bus';
import type { ReadinessCheck } from '../http/health';
import { serviceReadiness } from '../http/readiness';
import { ListingGate } from '../http/listing-gate';
import type { RateLimitOptions } from '../http/client-rate-limit';
import { serveHttp } from '../http/serve-http';
import { edgeLimits, httpTimeoutsOf } from '../config';
import type { Logger } from '../logger';
import { ServiceMetrics, type ObservedListener } from '../metrics/service-metrics';
import { OutboxRelay } from '../outbox/relay';
import type { RunningService } from './run-service';

/** What a service's listeners are to the start-up: each listens and closes. */
export interface ServiceListener extends ObservedListener {
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** A background job of a service (orders' expiry): started after the listeners, stopped before the relay. */
export interface ServiceWorker {
  start(): void;
  stop(): Promise<void>;
}

/** What every service's app is made from; a service's `createApp` adds what is its own. */
export interface ServiceAppDeps {
  jwtKey: string;
  /** The longest lifetime a token may declare (JWT_MAX_LIFETIME_SECONDS); 24 h if not given. */
  maxTokenLifetimeSeconds?: number;
  /** The per-client rate limit (RATE_LIMIT_*); the defaults if not given. */
  rateLimit?: RateLimitOptions;
  /** Bounds the listing queries of this copy (LISTING_*); one with the defaults if not given. */
  listings?: ListingGate;
  /** Proxies in front (TRUST_PROXY_HOPS). */
  trustProxyHops: number;
  /** Publishes the events each write stored in its record. */
  relay: OutboxRelay;
  logger: Logger;
  /** `/readyz` answers 200 only when every check is true. */
  readiness: Record<string, ReadinessCheck>;
  /** `/internal/stats`: listener and outbox counters of this copy. */
  stats: () => unknown;
  /** `GET /metrics` (Prometheus). */
  metrics: ServiceMetrics;
}

/**
 * The dependencies a service's `createApp` takes before its own: a test may leave out the metrics
 * (none), the proxies in front (1) and the stats (the outbox's count).
 */
export type AppDepsBase = Omit<ServiceAppDeps, 'metrics' | 'trustProxyHops' | 'stats'> &
  Partial<Pick<ServiceAppDeps, 'metrics' | 'trustProxyHops' | 'stats'>>;

export type ServiceConfig = BusConfig &
  Parameters<typeof edgeLimits>[0] &
  Parameters<typeof httpTimeoutsOf>[0] & {
    MONGO_URL: string;
    JWT_KEY: string;
    JWT_MAX_LIFETIME_SECONDS: number;
    HOST: string;
    PORT: number;
    TRUST_PROXY_HOPS: number;
  };

/** The parts of a service, as its `service.ts` names them. */
export interface ServiceParts<L extends { [K in keyof L]: ServiceListener }> {
  name: string;
  config: ServiceConfig;
  logger: Logger;
  /** Connects mongoose with the service's models in place (its `database.ts`). */
  connectDatabase(url: string, logger: Logger): Promise<void>;
  /** The model whose records carry the events this service publishes. */
  outboxModel: Model<any>;
  /** `metrics`: the registry a listener may add its own metrics to (orders' replication lag). */
  createListeners(bus: ServiceBus, deps: { relay: OutboxRelay; logger: Logger; metrics: ServiceMetrics }): L;
  stats(listeners: L, relay: OutboxRelay): unknown;
  createApp(deps: ServiceAppDeps): RequestListener;
  workers?(deps: { relay: OutboxRelay; logger: Logger }): ServiceWorker[];
}

/**
 * Connects everything and starts serving, in the same order for every service; `stop` undoes it
 * in reverse. main.ts owns the process (signals, exit codes: `runService`).
 */
export async function startEventService<L extends { [K in keyof L]: ServiceListener }>(parts: ServiceParts<L>): Promise<RunningService> {
  const { name, config, logger } = parts;
  // While the database is unreachable a request fails within 2 s (503) instead of hanging.
  await parts.connectDatabase(config.MONGO_URL, logger);

  const bus = await connectBus(config, logger.child({ component: 'bus' }));
  const relay = new OutboxRelay(parts.outboxModel, bus, { logger: logger.child({ component: 'outbox' }) });
  const metrics = new ServiceMetrics(name);
  const listeners = parts.createListeners(bus, { relay, logger, metrics });
  const each: ServiceListener[] = Object.values(listeners);
  const workers = parts.workers?.({ relay, logger }) ?? [];
  metrics.observeListeners(each).observeOutbox(relay).observeConsumers(bus);

  let stopping = false;
  const { rateLimit, listingLimit } = edgeLimits(config);
  const app = parts.createApp({
    jwtKey: config.JWT_KEY,
    maxTokenLifetimeSeconds: config.JWT_MAX_LIFETIME_SECONDS,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    rateLimit,
    listings: new ListingGate(listingLimit),
    relay,
    logger,
    readiness: serviceReadiness(bus, () => stopping),
    stats: () => parts.stats(listeners, relay),
    metrics,
  });

  for (const listener of each) await listener.listen();
  relay.start();
  for (const worker of workers) worker.start();

  const http = await serveHttp(app, config.PORT, { host: config.HOST, timeouts: httpTimeoutsOf(config) });
  logger.info({ host: config.HOST, port: http.port }, `${name} listening`);

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    await http.close();
    // Each listener finishes the event it is handling; the rest stay on the bus for another copy.
    await Promise.all(each.map((listener) => listener.close()));
    for (const worker of workers) await worker.stop();
    await relay.stop();
    await bus.close();
    await mongoose.disconnect();
  };
  return { port: http.port, stop: () => (stopped ??= stop()) };
}
