#!/usr/bin/env node
/**
 * `npm run stress -- [options]`: create a ticket at 5, update it to 10 then 15, N times at once,
 * and prove every replica in orders ends at 15 (version 2). Exit status 1 on any mismatch or
 * HTTP error.
 *   --iterations N     (default 200)
 *   --concurrency N    iterations in flight at once (default: all)
 *   --url URL          the one origin (default http://localhost:3000; e.g. https://ticketing.dev)
 *   --insecure         accept a self-signed certificate (cluster ingress)
 *   --token JWT        (default: one signed with JWT_KEY, or the local stack's dev key)
 *   --timeout SECONDS  how long replicas may take to converge (default 60)
 *   --json             print the summary as JSON
 */
import { parseArgs } from 'node:util';
import { signToken } from '@ticketing/common';
import { DEV_JWT_KEY } from './dev-key';
import { runStress, type StressSummary } from './stress/run-stress';

async function main() {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '200' },
      concurrency: { type: 'string' },
      url: { type: 'string', default: 'http://localhost:3000' },
      insecure: { type: 'boolean', default: false },
      token: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.insecure) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const iterations = positive('iterations', values.iterations);
  const token =
    values.token ?? signToken({ id: `stress-${process.pid}`, email: 'stress@ticketing.dev' }, process.env.JWT_KEY ?? DEV_JWT_KEY);
  const summary = await runStress({
    baseUrl: values.url.replace(/\/$/, ''),
    token,
    iterations,
    concurrency: values.concurrency ? positive('concurrency', values.concurrency) : undefined,
    convergeTimeoutMs: positive('timeout', values.timeout) * 1000,
    onProgress: values.json
      ? undefined
      : (p) => process.stderr.write(`\rcreated ${p.created}/${p.iterations}  updated ${p.updated}  converged ${p.converged}   `),
  });
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else print(summary);
  const failed = summary.mismatches > 0 || summary.failedIterations > 0 || Object.keys(summary.httpErrors).length > 0;
  process.exit(failed ? 1 : 0);
}

function print(s: StressSummary) {
  const errors =
    Object.entries(s.httpErrors)
      .map(([status, n]) => `${status}×${n}`)
      .join(', ') || 'none';
  console.log(`
stress summary
  iterations        ${s.iterations} (${s.failedIterations} failed)
  requests          ${s.requests}
  HTTP errors       ${errors}
  mismatches        ${s.mismatches}${s.firstMismatches.map((m) => `\n    ${m.id}: expected ${JSON.stringify(m.expected)}, replica ${JSON.stringify(m.actual)}`).join('')}
  converged in      ${s.convergeMs} ms after the last write
  replication lag   p50 ${s.lagMs.p50} ms, p95 ${s.lagMs.p95} ms, p99 ${s.lagMs.p99} ms, max ${s.lagMs.max} ms
  throughput        ${s.throughput} writes/s
  elapsed           ${s.elapsedMs} ms
  result            ${s.mismatches === 0 && s.failedIterations === 0 ? 'OK: every replica ends at 15' : 'FAILED'}`);
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`stress: --${name} must be a positive whole number, got ${value}`);
    process.exit(2);
  }
  return n;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
