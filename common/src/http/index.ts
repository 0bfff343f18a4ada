// What the services and the web server use to build their apps; the middleware createServiceApp
// assembles (request log, error handler, probes, current user) stays inside common.
export { ValidationError, BadRequestError, UnauthorizedError, ForbiddenError, NotFoundError, ConflictError } from './errors';
export { signToken, encodeSessionCookie, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, type UserPayload } from './auth-token';
export { requireAuth } from './current-user';
export * from './validate-request';
export { createServiceApp } from './service-app';
export { serveHttp } from './serve-http';
export * from './openapi-route';
export { ListingGate } from './listing-gate';
