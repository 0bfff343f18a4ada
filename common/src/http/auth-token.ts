import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface UserPayload {
  id: string;
  email: string;
}

/** The only algorithm accepted: tokens with `alg: none` or any other algorithm are rejected. */
const ALGORITHM = 'HS256' as const;

export function signToken(user: UserPayload, key: string, expiresInSeconds = 3600): string {
  return jwt.sign({ id: user.id, email: user.email }, key, { algorithm: ALGORITHM, expiresIn: expiresInSeconds });
}

/**
 * The key as the HMAC secret it is. Make it once and pass it to `verifySession`: given a string,
 * jsonwebtoken first tries to parse it as a PEM public key on every call, and that failed attempt
 * was the largest single cost of an authenticated request.
 */
export function verificationKey(key: string): KeyObject {
  return createSecretKey(Buffer.from(key, 'utf8'));
}

/**
 * The user in a valid token and when the token expires (ms since the epoch; none if it never
 * does), or null for a missing, expired, tampered or foreign-algorithm one.
 */
export function verifySession(token: string, key: string | KeyObject): { user: UserPayload; expiresAtMs?: number } | null {
  try {
    const payload = jwt.verify(token, key, { algorithms: [ALGORITHM] });
    if (typeof payload !== 'object' || payload === null) return null;
    const { id, email, exp } = payload as Record<string, unknown>;
    if (typeof id !== 'string' || !id || typeof email !== 'string') return null;
    return { user: { id, email }, ...(typeof exp === 'number' ? { expiresAtMs: exp * 1000 } : {}) };
  } catch {
    return null;
  }
}

/** The value of a `session` cookie as cookie-session writes it: base64 of `{"jwt": "..."}`. */
export function encodeSessionCookie(token: string): string {
  return Buffer.from(JSON.stringify({ jwt: token })).toString('base64');
}

export function decodeSessionCookie(value: string): string | null {
  try {
    const session: unknown = JSON.parse(Buffer.from(decodeURIComponent(value), 'base64').toString('utf8'));
    const token = (session as { jwt?: unknown } | null)?.jwt;
    return typeof token === 'string' ? token : null;
  } catch {
    return null;
  }
}
