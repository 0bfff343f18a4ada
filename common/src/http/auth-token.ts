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

/** How long a token may live unless the service is told otherwise (`JWT_MAX_LIFETIME_SECONDS`). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/** Slack for a minting machine whose clock runs a little ahead of ours. */
const CLOCK_SKEW_SECONDS = 60;

export interface TokenPolicy {
  /** The longest a token may live: from `iat` (or from now, without one) to `exp`. */
  maxLifetimeSeconds?: number;
}

/**
 * The user in a valid token and when the token expires (ms since the epoch), or null for a
 * missing, expired, tampered or foreign-algorithm one, and for one that would be valid too long:
 * - without `exp` (it would never expire, and a stolen copy with it);
 * - with a lifetime beyond the policy's maximum, counted from `iat` and also from now (an `iat`
 *   in the future must not stretch it);
 * - with `crit` in its header: RFC 7515 §4.1.11 says a recipient must refuse a token whose
 *   critical extensions it does not understand, and we understand none (a malformed `crit` is
 *   refused as well).
 * jsonwebtoken checks the signature, the algorithm, `exp` and `nbf`; it has no option for the
 * checks above, which are therefore made here on the header and payload it returns.
 */
export function verifySession(
  token: string,
  key: string | KeyObject,
  policy: TokenPolicy = {},
): { user: UserPayload; expiresAtMs: number } | null {
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  try {
    const { header, payload } = jwt.verify(token, key, { algorithms: [ALGORITHM], complete: true });
    if ('crit' in header) return null;
    if (typeof payload !== 'object' || payload === null) return null;
    const { id, email, exp, iat } = payload as Record<string, unknown>;
    if (typeof id !== 'string' || !id || typeof email !== 'string') return null;
    if (typeof exp !== 'number') return null;
    if (iat !== undefined && (typeof iat !== 'number' || exp - iat > maxLifetime)) return null;
    if (exp - Date.now() / 1000 > maxLifetime + CLOCK_SKEW_SECONDS) return null;
    return { user: { id, email }, expiresAtMs: exp * 1000 };
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
