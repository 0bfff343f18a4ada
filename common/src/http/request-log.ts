import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

/**
 * Gives each request an id (the ingress's `X-Request-Id` if any, so a request can be followed
 * across services), echoed back to the client, and one log line: at debug level, since a line per
 * request at the default level buries what matters (a stress run printed one per request), and
 * as a warning when the answer is a 5xx. Probes are not logged: they are noise.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.set('X-Request-Id', requestId);
    if (req.path === '/healthz' || req.path === '/readyz') return next();
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'warn' : 'debug';
      logger[level]('http request', { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) });
    });
    next();
  };
}
