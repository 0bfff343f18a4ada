import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { TEST_JWT_KEY, testToken, uniqueDatabaseName } from '@ticketing/common/testing';
import type { ListenerStats } from '@ticketing/common';
import { startStack, type Stack, type StackOptions } from '../stack/stack';

/**
 * A whole stack of real processes for an end-to-end test: its own nats-server, the run's shared
 * MongoDB-protocol server (own databases), and compiled services (`npm test` builds them first).
 */
export async function startTestStack(options: Partial<StackOptions> = {}): Promise<Stack & { token: string; logDir: string }> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-logs-'));
  const stack = await startStack({
    jwtKey: TEST_JWT_KEY,
    mongoUrl: process.env.TEST_MONGO_URL,
    databasePrefix: `${uniqueDatabaseName('e2e')}_`,
    logDir,
    serviceEnv: { LOG_LEVEL: 'warn' },
    ...options,
  });
  return { ...stack, token: testToken(), logDir };
}

/** Per-copy counters each service exposes at /internal/stats. */
export async function listenerStats(copy: { json<T>(p: string): Promise<T> }): Promise<Record<string, ListenerStats>> {
  const stats = await copy.json<{ listeners: Record<string, ListenerStats> }>('/internal/stats');
  return stats.listeners;
}
