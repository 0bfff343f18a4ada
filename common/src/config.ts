import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './http/auth-token';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http/serve-http';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions } from './http/client-rate-limit';
import { DEFAULT_LISTING_LIMIT, type ListingLimitOptions } from './http/listing-gate';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The event transports a service can run on. */
export const EVENT_BUSES = ['jetstream', 'nats-streaming'] as const;
export type EventBusKind = (typeof EVENT_BUSES)[number];

const milliseconds = (fallback: number) => z.coerce.number().int().min(100).max(600_000).default(fallback);

/** How long a client may take to send a request (docs/edge.md); read by every HTTP server. */
export const httpTimeoutsEnvShape = {
  HTTP_HEADERS_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_TIMEOUTS.headersMs),
  HTTP_REQUEST_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_TIMEOUTS.requestMs),
  HTTP_INACTIVITY_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_TIMEOUTS.inactivityMs),
};

export function httpTimeoutsOf(config: {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_INACTIVITY_TIMEOUT_MS: number;
}): HttpTimeouts {
  return {
    headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
    requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
    inactivityMs: config.HTTP_INACTIVITY_TIMEOUT_MS,
  };
}

/** The variables every service reads. Services extend this shape with their own. */
/**
 * The address the HTTP server binds. Loopback unless told otherwise, so a service started by hand
 * or by the local stack is not reachable from the network; container images set `0.0.0.0`.
 */
export const hostSetting = z
  .union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'must be an IP address or a host name' })
  .default('127.0.0.1');

/** Shared with the web server, which verifies the same tokens. */
export const jwtMaxLifetimeSetting = z.coerce.number().int().positive().default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);

export const serviceEnvShape = {
  ...httpTimeoutsEnvShape,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: hostSetting,
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// URL'),
  NATS_URL: z.string().regex(/^(nats|tls):\/\/\S+$/, 'must be one or more nats:// URLs, comma-separated'),
  JWT_KEY: z.string().min(8, 'must be at least 8 characters'),
  /** The longest a token may live (exp − iat); a token declaring more is refused. */
  JWT_MAX_LIFETIME_SECONDS: jwtMaxLifetimeSetting,
  /** Unique per process (the pod name in a cluster). */
  NATS_CLIENT_NAME: z
    .string()
    .min(1)
    .default(() => `${os.hostname()}-${process.pid}`),
  /** The service's NATS user and password (a Secret in Kubernetes; `npm start` makes dev ones). */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** The event transport: JetStream, or NATS Streaming for deployments that still run it (docs/nats-streaming.md). */
  EVENT_BUS: z.enum(EVENT_BUSES, { error: `must be ${EVENT_BUSES.join(' or ')}` }).default('jetstream'),
  /** The NATS Streaming server's cluster id (its `--cluster_id`), when EVENT_BUS=nats-streaming. */
  STAN_CLUSTER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _')
    .default('ticketing'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Proxies in front of the service (the ingress, or the local gateway): whose X-Forwarded-* to believe. */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
  /** The per-client rate limit on /api (docs/edge.md): the window, and requests per window; 0 turns one off. */
  RATE_LIMIT_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(DEFAULT_RATE_LIMIT.windowMs / 1000),
  RATE_LIMIT_PER_USER: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMIT.perUser),
  RATE_LIMIT_ANONYMOUS: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMIT.perAnonymousClient),
  /** Listing queries run at once per copy, how many may wait, and for how long (docs/edge.md). */
  LISTING_CONCURRENCY: z.coerce.number().int().min(1).default(DEFAULT_LISTING_LIMIT.concurrency),
  LISTING_QUEUE: z.coerce.number().int().min(0).default(DEFAULT_LISTING_LIMIT.queue),
  LISTING_MAX_WAIT_MS: z.coerce.number().int().min(1).default(DEFAULT_LISTING_LIMIT.maxWaitMs),
};

type EdgeLimitVariables = {
  RATE_LIMIT_WINDOW_SECONDS: number;
  RATE_LIMIT_PER_USER: number;
  RATE_LIMIT_ANONYMOUS: number;
  LISTING_CONCURRENCY: number;
  LISTING_QUEUE: number;
  LISTING_MAX_WAIT_MS: number;
};

/** The rate limit and the listing limit a parsed configuration asks for. */
export function edgeLimits(config: EdgeLimitVariables): { rateLimit: RateLimitOptions; listingLimit: ListingLimitOptions } {
  return {
    rateLimit: {
      windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perUser: config.RATE_LIMIT_PER_USER,
      perAnonymousClient: config.RATE_LIMIT_ANONYMOUS,
    },
    listingLimit: { concurrency: config.LISTING_CONCURRENCY, queue: config.LISTING_QUEUE, maxWaitMs: config.LISTING_MAX_WAIT_MS },
  };
}

/**
 * Parses the environment once into a frozen, typed object. Every problem is reported in one line
 * naming the variables, e.g. `config: MONGO_URL is required; PORT must be a number`.
 */
export function parseConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<z.ZodObject<S>>> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return issue.code === 'invalid_type' && present[name] === undefined ? `${name} is required` : `${name} ${issue.message}`;
    });
    throw new ConfigError(`config: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** For `main.ts`: a bad configuration stops the process with one clear line. */
export function loadConfigOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(1);
    }
    throw err;
  }
}
