import { spawn } from 'node:child_process';
import path from 'node:path';
import type { StressSummary } from '../stress/run-stress';
import { startTestStack } from './stack-fixture';

jest.setTimeout(180_000);

/** `npm run stress -- …` as a user runs it: the built CLI in a process of its own. */
function stressCli(args: string[]): Promise<{ status: number | null; summary: StressSummary; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'stress.js'), '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (status) => {
      try {
        resolve({ status, summary: JSON.parse(stdout) as StressSummary, stderr });
      } catch {
        reject(new Error(`stress printed no JSON summary (exit ${status}): ${stdout}\n${stderr}`));
      }
    });
  });
}

describe('the stress CLI in its own process against the whole stack (real processes, real servers)', () => {
  it('when it runs against a working stack, then every replica ends at 15 and its reads are bounded by time, far fewer than the tickets', async () => {
    const stack = await startTestStack();
    try {
      const { status, summary } = await stressCli([
        '--url',
        stack.url,
        '--token',
        stack.token,
        '--iterations',
        '600',
        '--concurrency',
        '100',
      ]);
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
      expect(status).toBe(0);
      expect(summary.writes).toBe(1800);
      // The final check reads 600 tickets 100 at a time; while waiting, the watch makes at most two
      // reads a quarter-second, however many tickets wait: bounded by time, not by tickets.
      expect(summary.reads).toBeGreaterThanOrEqual(6);
      expect(summary.reads).toBeLessThanOrEqual(6 + 2 * Math.ceil(summary.elapsedMs / 250 + 1));
      expect(summary.reads).toBeLessThan(600 / 4);
      expect(summary.lagMs.max).toBeGreaterThanOrEqual(summary.lagMs.p50);

      // What an operator's Prometheus sees: every event the run caused, applied once, none waiting.
      const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
      const sample = (text: string, name: string, labels = '') =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${name}{`) && l.includes(labels))
            ?.split(' ')
            .at(-1),
        );
      const orders = await scrape(stack.orders[0].url);
      expect(sample(orders, 'events_handled_total', 'subject="ticket:created",outcome="applied"')).toBe(600);
      expect(sample(orders, 'events_handled_total', 'subject="ticket:updated",outcome="applied"')).toBe(1200);
      const tickets = await scrape(stack.tickets[0].url);
      expect(sample(tickets, 'outbox_events_published_total')).toBe(1800);
      expect(sample(tickets, 'outbox_events_waiting')).toBe(0);
      expect(sample(tickets, 'http_request_duration_seconds_count', 'method="POST",route="/api/tickets",status_code="201"')).toBe(600);
    } finally {
      await stack.stop();
    }
  });

  it('when orders never applies the events, then it reports every ticket as a mismatch and exits 1, within its timeout', async () => {
    const stack = await startTestStack();
    try {
      await Promise.all(stack.orders.map((o) => o.stop()));
      const { status, summary } = await stressCli(['--url', stack.url, '--token', stack.token, '--iterations', '30', '--timeout', '2']);
      expect(status).toBe(1);
      expect(summary.mismatches).toBe(30);
      expect(summary.firstMismatches[0].actual).toEqual({ unreadable: expect.stringMatching(/^HTTP 50[23]/) });
    } finally {
      await stack.stop();
    }
  });
});
