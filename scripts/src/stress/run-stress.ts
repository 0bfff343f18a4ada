import { percentile } from './percentiles';

export interface StressOptions {
  baseUrl: string;
  token: string;
  iterations: number;
  /** Iterations in flight at once (default: all at once, as the original script did). */
  concurrency?: number;
  /** How long replicas may take to converge after the last update. */
  convergeTimeoutMs?: number;
  /** Called about once a second while running. */
  onProgress?: (progress: StressProgress) => void;
}

export interface StressProgress {
  created: number;
  updated: number;
  converged: number;
  iterations: number;
}

export interface Mismatch {
  id: string;
  expected: ReplicaView;
  /** What the replica read path answered: the replica, null for 404, or why it could not be read. */
  actual: ReplicaView | null | { unreadable: string };
}

interface ReplicaView {
  id: string;
  title: string;
  price: number;
  version: number;
  replicatedAt?: string;
}

export interface StressSummary {
  iterations: number;
  requests: number;
  httpErrors: Record<string, number>;
  /** Iterations that did not complete their three writes (see httpErrors). */
  failedIterations: number;
  mismatches: number;
  firstMismatches: Mismatch[];
  /** From the last update's response to every replica matching. */
  convergeMs: number;
  lagMs: { p50: number; p95: number; p99: number; max: number };
  /** Writes (POST + PUTs) per second during the write phase. */
  throughput: number;
  elapsedMs: number;
}

class HttpStatusError extends Error {
  constructor(readonly status: number | string) {
    super(`HTTP ${status}`);
  }
}

/**
 * The seed's proof: for each iteration create a ticket at 5, update it to 10, then 15; then every
 * replica in orders must hold price 15 and version 2 with the same id and title — zero mistakes.
 */
export async function runStress(options: StressOptions): Promise<StressSummary> {
  const { baseUrl, iterations } = options;
  const concurrency = options.concurrency ?? iterations;
  const convergeTimeoutMs = options.convergeTimeoutMs ?? 60_000;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.token}` };
  const httpErrors: Record<string, number> = {};
  let requests = 0;
  const progress: StressProgress = { created: 0, updated: 0, converged: 0, iterations };
  const run = Math.random().toString(36).slice(2, 8);

  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    requests++;
    let res: Response;
    try {
      res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      httpErrors.network = (httpErrors.network ?? 0) + 1;
      throw new HttpStatusError('network');
    }
    if (!res.ok) {
      httpErrors[res.status] = (httpErrors[res.status] ?? 0) + 1;
      await res.body?.cancel();
      throw new HttpStatusError(res.status);
    }
    return res.json();
  };

  const tickets: { expected: ReplicaView; updatedAt: number; seenAt?: number }[] = [];
  const watchers: Promise<void>[] = [];
  const ticker = options.onProgress && setInterval(() => options.onProgress!({ ...progress }), 1000);
  const started = Date.now();

  // Watch each ticket's replica from the moment its last update returned (replication lag).
  const deadlineAfterWrites = { at: Infinity };
  const watch = async (t: (typeof tickets)[number]) => {
    // Backing off keeps thousands of watchers from loading the service they watch; the lag itself
    // comes from the replica's replicatedAt, so the polling rate does not blur it.
    let pause = 20;
    for (;;) {
      const replica = await readReplica(baseUrl, headers, t.expected.id);
      if (replica && sameReplica(replica, t.expected)) {
        // The replica says when it applied this version (to the millisecond, same machine clock);
        // polling only finds out later, so it is the fallback.
        t.seenAt = replica.replicatedAt ? Date.parse(replica.replicatedAt) : Date.now();
        progress.converged++;
        return;
      }
      if (Date.now() > deadlineAfterWrites.at) return;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 1000);
    }
  };

  // Write phase: POST 5 → PUT 10 → PUT 15 per ticket, `concurrency` iterations at a time.
  await forEachIndex(iterations, concurrency, async (i) => {
    try {
      const created = await call('POST', '/api/tickets', { title: `stress-${run}-${i}`, price: 5 });
      progress.created++;
      await call('PUT', `/api/tickets/${created.id}`, { title: created.title, price: 10 });
      const last = await call('PUT', `/api/tickets/${created.id}`, { title: created.title, price: 15 });
      progress.updated++;
      const ticket = { expected: { id: created.id, title: created.title, price: 15, version: last.version }, updatedAt: Date.now() };
      tickets.push(ticket);
      watchers.push(watch(ticket));
    } catch {
      // counted in httpErrors; the run fails
    }
  });
  const writesDone = Date.now();
  deadlineAfterWrites.at = writesDone + convergeTimeoutMs;
  await Promise.all(watchers);
  const convergedAt = Date.now();
  if (ticker) clearInterval(ticker);
  options.onProgress?.({ ...progress });

  // Verify every replica against what the source said, once more, after convergence: a bounded
  // number of reads at a time (ten thousand at once would fail for want of sockets, not replicas),
  // each retried a few times when the read itself fails.
  const mismatches: Mismatch[] = [];
  await forEachIndex(tickets.length, 32, async (k) => {
    const t = tickets[k];
    const actual = await readReplicaPatiently(baseUrl, headers, t.expected.id);
    if (!actual || 'unreadable' in actual || !sameReplica(actual, t.expected) || t.expected.version !== 2)
      mismatches.push({ id: t.expected.id, expected: t.expected, actual });
  });
  // Applied before the PUT's response reached us counts as no lag.
  const lags = tickets.filter((t) => t.seenAt !== undefined).map((t) => Math.max(0, t.seenAt! - t.updatedAt));
  return {
    iterations,
    requests,
    httpErrors,
    failedIterations: iterations - tickets.length,
    mismatches: mismatches.length,
    firstMismatches: mismatches.slice(0, 5),
    convergeMs: convergedAt - writesDone,
    lagMs: { p50: percentile(lags, 50), p95: percentile(lags, 95), p99: percentile(lags, 99), max: percentile(lags, 100) },
    throughput: Math.round(((progress.created + 2 * progress.updated) / Math.max(1, writesDone - started)) * 1000),
    elapsedMs: convergedAt - started,
  };
}

/** Calls `fn` for 0 … count−1, at most `limit` calls in flight at once. */
async function forEachIndex(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

async function readReplica(baseUrl: string, headers: Record<string, string>, id: string): Promise<ReplicaView | null> {
  const answer = await readReplicaOnce(baseUrl, headers, id);
  return answer && 'unreadable' in answer ? null : answer;
}

async function readReplicaPatiently(baseUrl: string, headers: Record<string, string>, id: string): Promise<Mismatch['actual']> {
  let answer: Mismatch['actual'] = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    answer = await readReplicaOnce(baseUrl, headers, id);
    if (!answer || !('unreadable' in answer)) return answer;
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  return answer;
}

/** The replica, null when the read path says 404, or why it could not be read. */
async function readReplicaOnce(baseUrl: string, headers: Record<string, string>, id: string): Promise<Mismatch['actual']> {
  try {
    const res = await fetch(`${baseUrl}/api/orders/tickets/${id}`, { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) return { unreadable: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
    return (await res.json()) as ReplicaView;
  } catch (err) {
    return { unreadable: String((err as Error).cause ?? err) };
  }
}

function sameReplica(a: ReplicaView, b: ReplicaView): boolean {
  return a.id === b.id && a.title === b.title && a.price === b.price && a.version === b.version;
}
