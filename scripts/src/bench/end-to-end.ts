import type { Stack } from '../stack/stack';
import { httpClient } from '../stress/http-client';
import { percentile } from '../stress/percentiles';

type Api = (method: string, path: string, body?: unknown) => Promise<any>;

/** The load generator's client (the stress script's): JSON in, JSON out, a non-2xx rejects. */
function apiFor(baseUrl: string, token: string, maxSockets = 256): Api {
  const send = httpClient(baseUrl, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, maxSockets);
  return async (method, path, body) => {
    const { status, text } = await send(method, path, body);
    if (status < 200 || status > 299) throw new Error(`${method} ${path}: HTTP ${status} ${text}`);
    return JSON.parse(text);
  };
}

async function createTickets(api: Api, count: number, label: string): Promise<{ id: string; title: string }[]> {
  const tickets = await Promise.all(
    Array.from({ length: count }, (_, i) => api('POST', '/api/tickets', { title: `${label}-${i}`, price: 1 })),
  );
  return tickets.map((t) => ({ id: t.id, title: t.title }));
}

/** Events of a subject that the running orders copies have handled. */
async function handled(stack: Stack, subject: 'ticket:created' | 'ticket:updated'): Promise<number> {
  const all = await Promise.all(
    stack.orders.filter((o) => o.running).map((o) => o.json<{ listeners: Record<string, { handled: number }> }>('/internal/stats')),
  );
  return all.reduce((sum, s) => sum + s.listeners[subject].handled, 0);
}

/**
 * Saturation: `tickets` tickets each updated `perTicket` times (one after another per ticket, all
 * tickets at once); ticket updates per second applied in the orders replica, from the first PUT to
 * the moment orders has applied the last one.
 */
export async function benchEndToEndThroughput(stack: Stack, token: string, tickets: number, perTicket: number): Promise<number> {
  const api = apiFor(stack.url, token);
  const created = await createTickets(api, tickets, 'bench-sat');
  const before = await handled(stack, 'ticket:updated');
  const total = tickets * perTicket;
  const started = performance.now();
  await Promise.all(
    created.map(async (t) => {
      for (let i = 1; i <= perTicket; i++) await api('PUT', `/api/tickets/${t.id}`, { title: t.title, price: 1 + i });
    }),
  );
  // Asked every 50 ms: each question is a request orders serves while it is being measured.
  for (;;) {
    if ((await handled(stack, 'ticket:updated')) - before >= total) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return total / ((performance.now() - started) / 1000);
}

/**
 * Replication lag at a fixed offered rate: one update every 1000/rate ms (spread over tickets), each
 * timed from its PUT's response to the moment the orders replica shows that version.
 */
export async function benchLag(
  stack: Stack,
  token: string,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; max: number; samples: number }> {
  const api = apiFor(stack.url, token);
  // Enough tickets that one ticket's updates never overlap (each is updated every few seconds).
  const createdBefore = await handled(stack, 'ticket:created');
  const created = await createTickets(api, Math.max(64, rate * 5), 'bench-lag');
  // A steady load, not the aftermath of the set-up: the replicas of these tickets exist, and their
  // creations' published events have been removed (after the outbox's clean-up delay of 1 s).
  while ((await handled(stack, 'ticket:created')) - createdBefore < created.length) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1500));
  // Polled over a few kept-alive connections of their own, straight from the orders copy.
  const replicas = apiFor(stack.orders[0].url, token, 16);
  const lags: number[] = [];
  const total = rate * seconds;
  const interval = 1000 / rate;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const ticket = created[i % created.length];
    inFlight.push(
      (async () => {
        const updated = await api('PUT', `/api/tickets/${ticket.id}`, { title: ticket.title, price: 2 + i });
        const returned = Date.now();
        // Poll gently (hard polling would load the service being measured); the replica says
        // when it applied the version, to the millisecond on the same clock.
        for (;;) {
          const replica = (await replicas('GET', `/api/orders/tickets/${ticket.id}`).catch(() => null)) as {
            version: number;
            replicatedAt: string;
          } | null;
          if (replica && replica.version >= updated.version) {
            lags.push(Math.max(0, Date.parse(replica.replicatedAt) - returned));
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(percentile(lags, 50)), p99: round(percentile(lags, 99)), max: round(percentile(lags, 100)), samples: lags.length };
}
