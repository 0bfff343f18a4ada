import { createHmac } from 'node:crypto';
import { signToken, type UserPayload } from '../http/auth-token';
import { databaseUrl, uniqueDatabaseName } from './mongo-server';

/** The JWT key tests use; services under test are given the same one. */
export const TEST_JWT_KEY = 'test-jwt-key-not-a-secret';

let users = 0;
/** A token signed by the production code for a (new, unless given) user. */
export function testToken(user: Partial<UserPayload> = {}, key = TEST_JWT_KEY): string {
  users++;
  return signToken({ id: user.id ?? `user-${process.pid}-${users}`, email: user.email ?? `user${users}@test.dev` }, key);
}

/**
 * A token with exactly these claims and header fields, correctly signed (HS256), whatever they
 * are: for tests of what the services refuse although the signature is good.
 */
export function craftedToken(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key = TEST_JWT_KEY): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT', ...header })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

export function authHeader(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** A fresh database on the run's shared server (started by the jest global setup). */
export function testMongoUrl(prefix = 'test'): string {
  const server = process.env.TEST_MONGO_URL;
  if (!server) throw new Error('TEST_MONGO_URL is not set: run tests through jest (its global setup starts MongoDB)');
  return databaseUrl(server, uniqueDatabaseName(prefix));
}

/** Polls until `check` returns a truthy value (or stops throwing), then returns it. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
