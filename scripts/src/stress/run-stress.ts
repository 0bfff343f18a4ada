import { createTicketingClient, errorMessage, type TicketingClient } from '@ticketing/client';
import { keptAliveFetch } from './http-client';
import { percentile } from './percentiles';
import { ReplicaWatch, lagMs, sameReplica, type ReplicaView, type Watched } from './replica-watch';

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
  /** What the replica read path answered: the replica, null when it has none, or why it could not be read. */
  actual: ReplicaView | null | { unreadable: string };
}

export interface StressSummary {
  iterations: number;
  /** The script's writes: POST + PUTs. */
  writes: number;
  /** The script's reads of replicas (each for up to MAX_IDS_PER_READ tickets), the final check included. */
  reads: number;
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

/** What `GET /api/orders/tickets?ids=…` accepts at most. */
export const MAX_IDS_PER_READ = 100;
/** While writing and converging: two reads of 100 tickets every quarter of a second, at most. */
const WATCH = { parallel: 2, intervalMs: 250 };
/** The final check: reads in flight at once, and tries per read. */
const CHECK = { parallel: 4, tries: 5 };

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
  const httpErrors: Record<string, number> = {};
  let requests = 0;
  const progress: StressProgress = { created: 0, updated: 0, converged: 0, iterations };
  const run = Math.random().toString(36).slice(2, 8);

  // The contract's typed client over kept-alive connections; its own for the watch and the final
  // check, so that they never queue behind writes.
  const { tickets: api } = createTicketingClient({ baseUrl, token: options.token, fetch: keptAliveFetch(concurrency) });
  const { orders: replicas } = createTicketingClient({
    baseUrl,
    token: options.token,
    fetch: keptAliveFetch(Math.max(WATCH.parallel, CHECK.parallel)),
  });

  /** The answer's data; an error answer or no answer is counted in httpErrors and thrown. */
  const write = async <T>(call: () => Promise<{ data?: T; response: Response }>): Promise<T> => {
    requests++;
    let answer: { data?: T; response: Response };
    try {
      answer = await call();
    } catch {
      httpErrors.network = (httpErrors.network ?? 0) + 1;
      throw new HttpStatusError('network');
    }
    if (answer.data === undefined) {
      httpErrors[answer.response.status] = (httpErrors[answer.response.status] ?? 0) + 1;
      throw new HttpStatusError(answer.response.status);
    }
    return answer.data;
  };

  const read = (ids: string[]) => readReplicas(replicas, ids);
  const watch = new ReplicaWatch({ read: async (ids) => (await read(ids)).replicas, maxIds: MAX_IDS_PER_READ, ...WATCH });
  const tickets: Watched[] = [];
  const ticker = options.onProgress && setInterval(() => options.onProgress!({ ...progress, converged: watch.converged }), 1000);
  const started = Date.now();

  // Write phase: POST 5 → PUT 10 → PUT 15 per ticket, `concurrency` iterations at a time, while
  // the watch reads the replicas of the tickets written so far at its own fixed pace.
  let writing = true;
  const watching = watch.run(() => writing, convergeTimeoutMs);
  await forEachIndex(iterations, concurrency, async (i) => {
    try {
      const created = await write(() => api.POST('/api/tickets', { body: { title: `stress-${run}-${i}`, price: 5 } }));
      progress.created++;
      const path = { params: { path: { id: created.id } } };
      await write(() => api.PUT('/api/tickets/{id}', { ...path, body: { title: created.title, price: 10 } }));
      const last = await write(() => api.PUT('/api/tickets/{id}', { ...path, body: { title: created.title, price: 15 } }));
      progress.updated++;
      const ticket = { expected: { id: created.id, title: created.title, price: 15, version: last.version }, updatedAt: Date.now() };
      tickets.push(ticket);
      watch.add(ticket);
    } catch {
      // counted in httpErrors; the run fails
    }
  });
  const writesDone = Date.now();
  writing = false;
  await watching;
  const convergedAt = Date.now();
  if (ticker) clearInterval(ticker);
  options.onProgress?.({ ...progress, converged: watch.converged });

  // Verify every replica against what the source said, once more, after convergence, in reads of
  // up to MAX_IDS_PER_READ tickets, a few at a time, each retried a few times when the read itself
  // fails. A ticket the watch did not see match gets its lag here, if its replica matches now.
  const mismatches: Mismatch[] = [];
  let checkReads = 0;
  const chunks = Math.ceil(tickets.length / MAX_IDS_PER_READ);
  await forEachIndex(chunks, CHECK.parallel, async (k) => {
    const chunk = tickets.slice(k * MAX_IDS_PER_READ, (k + 1) * MAX_IDS_PER_READ);
    let answer: Awaited<ReturnType<typeof read>> = { replicas: null, unreadable: 'not read' };
    for (let attempt = 1; attempt <= CHECK.tries; attempt++) {
      checkReads++;
      answer = await read(chunk.map((t) => t.expected.id));
      if (answer.replicas) break;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    const seenAt = Date.now();
    const byId = new Map((answer.replicas ?? []).map((r) => [r.id, r]));
    for (const t of chunk) {
      const actual: Mismatch['actual'] = answer.replicas ? (byId.get(t.expected.id) ?? null) : { unreadable: answer.unreadable };
      if (actual === null || 'unreadable' in actual || !sameReplica(actual, t.expected) || t.expected.version !== 2)
        mismatches.push({ id: t.expected.id, expected: t.expected, actual });
      else t.lagMs ??= lagMs(t.updatedAt, actual.replicatedAt, seenAt);
    }
  });
  const lags = tickets.flatMap((t) => (t.lagMs === undefined ? [] : [t.lagMs]));
  return {
    iterations,
    writes: requests,
    reads: watch.reads + checkReads,
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

/** The replicas that exist of up to MAX_IDS_PER_READ tickets, or why they could not be read. */
async function readReplicas(
  orders: TicketingClient['orders'],
  ids: string[],
): Promise<{ replicas: ReplicaView[]; unreadable?: undefined } | { replicas: null; unreadable: string }> {
  try {
    const { data, error, response } = await orders.GET('/api/orders/tickets', { params: { query: { ids: ids.join(',') } } });
    if (!data) return { replicas: null, unreadable: `HTTP ${response.status}: ${errorMessage(error)}` };
    return { replicas: data.tickets };
  } catch (err) {
    return { replicas: null, unreadable: String(err) };
  }
}
