#!/usr/bin/env node
/**
 * `npm run stress -- [options]`: the concurrency proof (see USAGE).
 */
import { signToken } from '@ticketing/common';
import { DEV_JWT_KEY } from './dev-key';
import { runStress, type StressProgress, type StressSummary } from './stress/run-stress';
import { parseCommandLine, wholeNumber } from './cli';

const USAGE = `
Usage: npm run stress -- [options]

Creates a ticket at price 5, updates it to 10 then 15, N times at once, and proves that every
replica in orders ends at 15 (version 2). Exit status 1 on any mismatch or HTTP error.
It watches the replicas at a fixed pace (at most 8 reads a second, of up to 100 tickets each),
whatever their number or lag, then checks every one.

  --iterations N     tickets to create and update (default 200)
  --concurrency N    iterations in flight at once (default: all)
  --url URL          the one origin (default http://localhost:3000; e.g. https://ticketing.dev)
  --insecure         accept a self-signed certificate (cluster ingress)
  --token JWT        (default: one signed with JWT_KEY, or the local stack's dev key)
  --timeout SECONDS  how long replicas may take to converge (default 60)
  --json             print the summary as JSON
  --help             this text
`;

async function main() {
  const values = parseCommandLine(USAGE, {
    iterations: { type: 'string', default: '200' },
    concurrency: { type: 'string' },
    url: { type: 'string', default: 'http://localhost:3000' },
    insecure: { type: 'boolean', default: false },
    token: { type: 'string' },
    timeout: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  });
  if (values.insecure) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const iterations = wholeNumber('stress', 'iterations', values.iterations);
  const token =
    values.token ?? signToken({ id: `stress-${process.pid}`, email: 'stress@ticketing.dev' }, process.env.JWT_KEY ?? DEV_JWT_KEY);
  const summary = await runStress({
    baseUrl: values.url.replace(/\/$/, ''),
    token,
    iterations,
    concurrency: values.concurrency ? wholeNumber('stress', 'concurrency', values.concurrency) : undefined,
    convergeTimeoutMs: wholeNumber('stress', 'timeout', values.timeout) * 1000,
    onProgress: values.json ? undefined : progressPrinter(),
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
  writes            ${s.writes}
  replica reads     ${s.reads} (${Math.round((s.reads / Math.max(1, s.writes)) * 1000) / 10}% of the writes; up to 100 tickets each)
  HTTP errors       ${errors}
  mismatches        ${s.mismatches}${s.firstMismatches.map((m) => `\n    ${m.id}: expected ${JSON.stringify(m.expected)}, replica ${JSON.stringify(m.actual)}`).join('')}
  converged in      ${s.convergeMs} ms after the last write
  replication lag   p50 ${s.lagMs.p50} ms, p95 ${s.lagMs.p95} ms, p99 ${s.lagMs.p99} ms, max ${s.lagMs.max} ms
  throughput        ${s.throughput} writes/s
  elapsed           ${s.elapsedMs} ms
  result            ${s.mismatches === 0 && s.failedIterations === 0 ? 'OK: every replica ends at 15' : 'FAILED'}`);
}

/**
 * Progress on one line rewritten in place on a terminal; into a file or a pipe (a CI log), one
 * line every five seconds instead of thousands of carriage returns.
 */
function progressPrinter() {
  const terminal = process.stderr.isTTY;
  let printedAt = 0;
  return (p: StressProgress) => {
    const line = `created ${p.created}/${p.iterations}  updated ${p.updated}  converged ${p.converged}`;
    if (terminal) return void process.stderr.write(`\r${line}   `);
    const done = p.converged === p.iterations;
    if (!done && Date.now() - printedAt < 5000) return;
    printedAt = Date.now();
    process.stderr.write(`${line}\n`);
  };
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
