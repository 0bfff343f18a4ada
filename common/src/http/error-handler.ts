import type { ErrorRequestHandler, RequestHandler } from 'express';
import { silentLogger, type Logger } from '../logger';
import { BadRequestError, ConflictError, HttpError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError } from './errors';

/** Unknown routes: a JSON 404 like every other error. */
export const notFound: RequestHandler = (req) => {
  throw new NotFoundError(`No route for ${req.method} ${req.path}`);
};

/**
 * The one place that writes errors: `{ errors: [{ message, field? }] }`. Known errors keep their
 * status; the database being unreachable is a 503; anything else is logged and becomes a 500
 * without internals.
 */
export function errorHandler(logger: Logger = silentLogger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const known = toHttpError(err);
    if (!known) {
      // The id is given here too: an error raised before the request's log context began has none.
      logger.error({ err, requestId: req.id, method: req.method, path: req.path }, 'http: unexpected error');
      res.status(500).json({ code: 'internal', errors: [{ message: 'Something went wrong' }] });
      return;
    }
    if (known instanceof ServiceUnavailableError) {
      logger.warn({ err, requestId: req.id, path: req.path }, 'http: unavailable');
      res.setHeader('Retry-After', '1');
    }
    if (known.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(known.retryAfterSeconds));
    res.status(known.status).json({ code: known.code, errors: known.serialize() });
  };
}

const DATABASE_DOWN = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoServerClosedError',
  'MongoWaitQueueTimeoutError',
]);

/**
 * Socket errors: the driver sometimes lets one through unwrapped when the server goes away
 * mid-write (e.g. EPIPE "This socket has been ended by the other party"). A request handler's
 * only connection is the database's (events go through the outbox), so they mean the same.
 */
const CONNECTION_LOST = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN']);

/** The database could not be reached (not: it refused the operation). */
function isDatabaseDown(e: {
  name?: string;
  code?: unknown;
  message?: string;
  hasErrorLabel?: (label: string) => boolean;
  cause?: unknown;
}): boolean {
  if (e.name && DATABASE_DOWN.has(e.name)) return true;
  if (typeof e.code === 'string' && CONNECTION_LOST.has(e.code)) return true;
  // mongoose's command buffering timed out while disconnected
  if (e.name === 'MongooseError' && /buffering timed out|not connected|connection.*closed/i.test(e.message ?? '')) return true;
  // the driver labels errors caused by a lost connection as retryable
  if (
    e.name?.startsWith('Mongo') &&
    typeof e.hasErrorLabel === 'function' &&
    (e.hasErrorLabel('RetryableWriteError') || e.hasErrorLabel('ResetPool'))
  ) {
    return true;
  }
  const cause = e.cause as typeof e | undefined;
  return typeof cause === 'object' && cause !== null && cause !== e && isDatabaseDown(cause);
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { type?: string; name?: string; message?: string; status?: number };
  // body-parser
  if (e.type === 'entity.parse.failed') return new BadRequestError('Malformed JSON body');
  if (e.type === 'entity.too.large') return new PayloadTooLargeError();
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return new BadRequestError('Unsupported body encoding');
  if (e.name === 'VersionError') return new ConflictError('The record was changed by someone else; reload and retry');
  if (isDatabaseDown(e)) return new ServiceUnavailableError('Database unavailable, retry shortly');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new BadRequestError(e.message || 'Bad request');
  return null;
}
