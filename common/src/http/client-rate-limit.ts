import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Logger } from '../logger';
import { TooManyRequestsError } from './errors';

export interface RateLimitOptions {
  /** Length of the fixed window the requests are counted in. */
  windowMs: number;
  /** Requests per window for one signed-in user, whatever address they come from; 0: no limit. */
  perUser: number;
  /** Requests per window for one anonymous client address (an IPv6 /56 counts as one); 0: no limit. */
  perAnonymousClient: number;
}

/**
 * Why these numbers (docs/edge.md): an anonymous client only reads, and a person browsing makes a
 * few requests a page, so 600 a minute is far above any real use yet stops a read burst early. A
 * signed-in user is counted apart from their address, with a budget above what the stress script
 * (one user, one address, every write of the run) needs on the local stack, so the project's own
 * heavy use is never limited while a runaway client still is.
 */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowMs: 60_000, perUser: 120_000, perAnonymousClient: 600 };

/**
 * The key a request is counted under: the signed-in user's id (a valid token; an invalid one
 * counts as anonymous), otherwise the client's address as Express sees it through the trusted
 * proxy hops (`trust proxy`), so that a client cannot choose its key with `X-Forwarded-For` when
 * no proxy is trusted. IPv4-mapped IPv6 addresses count as their IPv4 address; other IPv6
 * addresses by their /56, since one client easily holds a whole block of them.
 */
function rateLimitKey(req: Request): string {
  if (req.currentUser) return `user:${req.currentUser.id}`;
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

/**
 * A per-client rate limit (express-rate-limit, counted in this process): past its budget a client
 * gets 429 with the JSON error shape, `Retry-After` and the standard `RateLimit` /
 * `RateLimit-Policy` headers (IETF draft 8; the policy names `user` or `anonymous`). Goes after
 * `currentUser`; probes, `/metrics` and `/internal/*` are answered before it and never counted.
 */
export function clientRateLimit(
  options: RateLimitOptions,
  logger?: Logger,
  /** Told of each refusal, with its policy (the metrics' `http_rate_limited_total`). */
  refused?: (policy: 'user' | 'anonymous') => void,
): RequestHandler {
  const limitOf = (req: Request) => (req.currentUser ? options.perUser : options.perAnonymousClient);
  const policyOf = (req: Request) => (req.currentUser ? 'user' : 'anonymous');
  return rateLimit({
    windowMs: options.windowMs,
    limit: limitOf,
    skip: (req) => limitOf(req) === 0,
    keyGenerator: rateLimitKey,
    identifier: policyOf,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      refused?.(policyOf(req));
      next(new TooManyRequestsError());
    },
    // Clients that send X-Forwarded-For past the trusted hops are expected (and ignored by
    // `trust proxy`): not an error to report on every start.
    validate: { xForwardedForHeader: false },
    ...(logger
      ? {
          logger: {
            error: (err: unknown, message?: string) => logger.error({ err }, `rate limit: ${message ?? 'error'}`),
            warn: (err: unknown, message?: string) => logger.warn({ err }, `rate limit: ${message ?? 'warning'}`),
          },
        }
      : {}),
  });
}
