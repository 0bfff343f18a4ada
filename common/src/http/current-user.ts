import type { RequestHandler } from 'express';
import { decodeSessionCookie, verificationKey, verifyToken, type UserPayload } from './auth-token';
import { UnauthorizedError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    currentUser?: UserPayload;
  }
}

/**
 * Sets `req.currentUser` from `Authorization: Bearer <jwt>` or from the `session` cookie
 * (cookie-session format holding `{ jwt }`). An invalid token simply leaves the user unset.
 */
export function currentUser(jwtKey: string): RequestHandler {
  const key = verificationKey(jwtKey);
  return (req, _res, next) => {
    const token = bearerToken(req.headers.authorization) ?? sessionToken(req.headers.cookie);
    const user = token ? verifyToken(token, key) : null;
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
