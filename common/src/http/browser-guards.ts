import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { UnsupportedMediaTypeError } from './errors';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A write carrying a body that is not JSON is refused with 415 before anything reads it. A browser
 * sends a cross-site form post (urlencoded, multipart or text/plain) without a preflight, with the
 * user's cookies; refusing every such type means no handler ever acts on one (with SameSite=Lax
 * on the session cookie, this is the CSRF defence: see docs/frontend.md). A JSON content type from
 * another origin needs a CORS preflight, which these services never grant.
 */
export const jsonWritesOnly: RequestHandler = (req, _res, next) => {
  if (WRITES.has(req.method) && hasBody(req.headers) && !req.is('application/json')) throw new UnsupportedMediaTypeError();
  next();
};

/** An empty body (no length, or length 0) says nothing and is let through, e.g. a plain DELETE. */
function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

/**
 * helmet's security headers on every response. Its default content-security policy suits a JSON
 * API as well: nothing a browser might render from an answer may load scripts or frames. An app
 * serving pages (the web app) gives its own.
 */
export function securityHeaders(contentSecurityPolicy?: HelmetOptions['contentSecurityPolicy']): RequestHandler {
  return helmet(contentSecurityPolicy === undefined ? {} : { contentSecurityPolicy });
}
