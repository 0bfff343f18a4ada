// What the services and the web server use to build their apps; the middleware createServiceApp
// assembles (request log, error handler, probes, current user) stays inside common.
export { ValidationError, BadRequestError, UnauthorizedError, ForbiddenError, NotFoundError, ConflictError } from './errors';
export {
  signToken,
  verifySession,
  encodeSessionCookie,
  decodeSessionCookie,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  type UserPayload,
} from './auth-token';
export { requireAuth } from './current-user';
export * from './validate-request';
export { type ReadinessCheck } from './health';
export * from './readiness';
export { createServiceApp } from './service-app';
export { serveHttp, createHttpServer, answerJson, KEEP_ALIVE_TIMEOUT_MS, type HttpTimeouts } from './serve-http';
export * from './openapi-route';
export * from './client-rate-limit';
export * from './listing-gate';
