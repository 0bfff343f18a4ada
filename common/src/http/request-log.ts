import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { withLogContext, type Logger } from '../logger';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Gives each request an id (the ingress's `X-Request-Id` if any, so a request can be followed
 * across services), echoed back to the client, and one access line (pino-http): at debug level,
 * since a line per request at the default level buries what matters (a stress run printed one per
 * request), and as a warning when the answer is a 5xx. Probes and the scrape are not logged: noise.
 */
export function requestLog(logger: Logger): RequestHandler {
  const pathOf = (req: IncomingMessage) => (req as Request).path;
  const line = (req: IncomingMessage, res: ServerResponse, ms: number) => ({
    requestId: req.id,
    method: req.method,
    path: pathOf(req),
    status: res.statusCode,
    ms,
  });
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const requestId = typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', requestId);
      return requestId;
    },
    // `req.log` carries the request's method and url, not its headers (tokens, cookies); the id
    // comes from the request's log context (requestContext), as for every other line. Read from
    // the request itself, unwrapped: pino-http binds it to a child logger on every request, and
    // the standard request serializer would copy every header each time.
    wrapSerializers: false,
    serializers: { req: (req: IncomingMessage) => ({ method: req.method, url: req.url }) },
    quietResLogger: true,
    autoLogging: { ignore: (req) => PROBES.has(pathOf(req)) },
    // A level the logger would not write is 'silent', so that pino-http builds no line for it.
    customLogLevel: (_req, res, err) => {
      const level = err || res.statusCode >= 500 ? 'warn' : 'debug';
      return logger.isLevelEnabled(level) ? level : 'silent';
    },
    customSuccessMessage: () => 'http request',
    customErrorMessage: () => 'http request',
    customSuccessObject: (req, res, val: { responseTime: number }) => line(req, res, val.responseTime),
    customErrorObject: (req, res, _err, val: { responseTime: number }) => line(req, res, val.responseTime),
  });
}

/**
 * Every line logged while the request is handled (route handlers, the outbox they call, the error
 * handler) carries its id. After the body parser: it reads the body in the socket's callbacks,
 * which would lose a context set before it.
 */
export const requestContext: RequestHandler = (req, _res, next) => {
  withLogContext({ requestId: req.id }, next);
};
