import type { RequestHandler } from 'express';
import { decodeSessionCookie, verificationKey, verifySession, type TokenPolicy, type UserPayload } from './auth-token';
import { UnauthorizedError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    currentUser?: UserPayload;
  }
}

const VERIFIED_TOKENS = 10_000;

/**
 * Sets `req.currentUser` from `Authorization: Bearer <jwt>` or from the `session` cookie
 * (cookie-session format holding `{ jwt }`). An invalid token simply leaves the user unset.
 */
export function currentUser(jwtKey: string, policy: TokenPolicy = {}): RequestHandler {
  const key = verificationKey(jwtKey);
  // Tokens verified lately, until they expire (every accepted token has an exp): a client sends
  // the same token with every request, and checking its signature and claims each time is work
  // for nothing. Only valid tokens are kept (at most VERIFIED_TOKENS, the oldest going first).
  const verified = new Map<string, { user: UserPayload; expiresAtMs: number }>();
  const userOf = (token: string): UserPayload | null => {
    const known = verified.get(token);
    if (known && Date.now() < known.expiresAtMs) return known.user;
    verified.delete(token);
    const session = verifySession(token, key, policy);
    if (!session) return null;
    verified.set(token, session);
    if (verified.size > VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
    return session.user;
  };
  return (req, _res, next) => {
    const token = bearerToken(req.headers.authorization) ?? sessionToken(req.headers.cookie);
    const user = token ? userOf(token) : null;
    if (user) req.currentUser = user;
    next();
  };
}

export const requireAuth: RequestHandler = (req, _res, next) => {
  if (!req.currentUser) throw new UnauthorizedError();
  next();
};

function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match ? match[1] : null;
}

function sessionToken(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'session') return decodeSessionCookie(rest.join('='));
  }
  return null;
}
