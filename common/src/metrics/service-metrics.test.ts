import { Router } from 'express';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import type { ListenerStats } from '../bus/listener';
import { silentLogger } from '../logger';
import { signToken } from '../http/auth-token';
import type { RateLimitOptions } from '../http/client-rate-limit';
import { createServiceApp } from '../http/service-app';
import { ServiceMetrics } from './service-metrics';
import { Types } from 'mongoose';
import { DEFAULT_STREAM, durableName, JetStreamBus } from '../bus/jetstream-bus';
import { RecordingListener } from '../testing/test-listeners';
import { eventMessageId } from '../events/contracts';
import { Subjects } from '../events/subjects';
import { waitFor } from '../testing/helpers';
import { startNatsServer, type NatsServerHandle } from '../testing/nats-server';

function stats(): ListenerStats {
  return { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };
}

function setUp(rateLimit?: RateLimitOptions) {
  const created = { subject: 'ticket:created', stats: stats() };
  const updated = { subject: 'ticket:updated', stats: stats() };
  const outbox = { published: 0, publishFailures: 0, waiting: () => ({ events: 0, oldestMs: 0 }) };
  const metrics = new ServiceMetrics('things').observeListeners([created, updated]).observeOutbox(outbox);
  const routes = Router();
  routes.get('/api/things/:id', (_req, res) => {
    res.json({ ok: true });
  });
  const app = createServiceApp({
    logger: silentLogger,
    jwtKey: 'metrics-test-key',
    readiness: { always: () => true },
    stats: () => ({}),
    routers: [routes],
    metrics,
    rateLimit,
  });
  const scrape = async () => {
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(res.text);
    return (name: string) => families.find((f) => f.name === name);
  };
  return { app, created, updated, outbox, scrape };
}

describe('GET /metrics (Prometheus text format, prom-client)', () => {
  it('when scraped, then it parses and has the process and runtime metrics: event-loop lag, heap, GC', async () => {
    const { scrape } = setUp();
    const family = await scrape();
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_cpu_seconds_total',
    ])
      expect(family(name)).toBeDefined();
    expect(family('nodejs_eventloop_lag_seconds')!.metrics[0].labels).toMatchObject({ service: 'things' });
  });

  it('when the rate limit refuses requests, then they are counted by policy, and both policies show from the start', async () => {
    const { app, scrape } = setUp({ windowMs: 60_000, perUser: 1, perAnonymousClient: 2 });
    const refusals = async () =>
      Object.fromEntries((await scrape())('http_rate_limited_total')!.metrics.map((m) => [m.labels!.policy, Number(m.value)]));
    expect(await refusals()).toEqual({ user: 0, anonymous: 0 });

    for (const status of [200, 200, 429]) await request(app).get('/api/things/1').expect(status);
    const token = signToken({ id: 'u-1', email: 'u@example.com' }, 'metrics-test-key');
    for (const status of [200, 429, 429]) await request(app).get('/api/things/1').set('Authorization', `Bearer ${token}`).expect(status);
    expect(await refusals()).toEqual({ user: 2, anonymous: 1 });
  });

  it('when requests are answered, then their durations are counted by method, route template and status, not by path', async () => {
    const { app, scrape } = setUp();
    await request(app).get('/api/things/1').expect(200);
    await request(app).get('/api/things/2').expect(200);
    await request(app).get('/api/nothing').expect(404);
    await request(app).get('/healthz').expect(200);
    // (the parser mislays histogram labels when `le` comes first, as prom-client writes it: the
    // `_count` lines are read as they are)
    await scrape();
    const text = (await request(app).get('/metrics')).text;
    const count = (labels: Record<string, string>) => {
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_request_duration_seconds_count{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    expect(count({ method: 'GET', route: '/api/things/:id', status_code: '200' })).toBe(2);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(text).not.toContain('route="/api/things/1"');
    expect(text).not.toContain('route="/healthz"');
  });

  it('when listeners handle events, then events_handled_total moves by exactly what they did, by subject and outcome', async () => {
    const { created, updated, scrape } = setUp();
    const value = async (subject: string, outcome: string) =>
      Number(
        (await scrape())('events_handled_total')!.metrics.find((m) => m.labels?.subject === subject && m.labels?.outcome === outcome)
          ?.value,
      );
    created.stats.applied = 5;
    updated.stats.duplicates = 2;
    updated.stats.deadLettered = 1;
    expect(await value('ticket:created', 'applied')).toBe(5);
    expect(await value('ticket:updated', 'duplicate')).toBe(2);
    expect(await value('ticket:updated', 'dead_lettered')).toBe(1);
    created.stats.applied += 3;
    updated.stats.retried += 4;
    expect(await value('ticket:created', 'applied')).toBe(8);
    expect(await value('ticket:updated', 'retried')).toBe(4);
  });

  it('when events wait in the outbox, then the gauges show how many and for how long, and the counters what was published and failed', async () => {
    const { outbox, scrape } = setUp();
    outbox.published = 7;
    outbox.publishFailures = 2;
    outbox.waiting = () => ({ events: 3, oldestMs: 1500 });
    const family = await scrape();
    expect(family('outbox_events_published_total')!.metrics[0].value).toBe('7');
    expect(family('outbox_publish_failures_total')!.metrics[0].value).toBe('2');
    expect(family('outbox_events_waiting')!.metrics[0].value).toBe('3');
    expect(family('outbox_oldest_waiting_seconds')!.metrics[0].value).toBe('1.5');
  });
});

describe('per-consumer gauges, read from JetStream at scrape time (real nats-server)', () => {
  let nats: NatsServerHandle;
  let bus: JetStreamBus;
  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await JetStreamBus.connect({ servers: nats.url, name: 'consumer-gauges-test' });
  });
  afterAll(async () => {
    await bus.close();
    await nats.destroy();
  });

  it('when events wait behind held handlers, then the gauges say what the server says; with NATS down, a scrape still answers, without them', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const listener = new RecordingListener(bus, 'gauges', () => held.then(() => undefined));
    await listener.listen();
    const metrics = new ServiceMetrics('things').observeConsumers(bus, 500);
    const app = createServiceApp({ logger: silentLogger, jwtKey: 'k', readiness: {}, stats: () => ({}), routers: [], metrics });
    const consumer = durableName('gauges', Subjects.TicketCreated);
    const gauges = async () => {
      const families = parsePrometheusTextFormat((await request(app).get('/metrics').expect(200)).text);
      const value = (name: string) => {
        const sample = families.find((f) => f.name === name)?.metrics.find((m) => m.labels?.consumer === consumer);
        return sample && { value: Number(sample.value), subject: sample.labels?.subject };
      };
      return {
        pending: value('nats_consumer_pending_messages'),
        ackPending: value('nats_consumer_ack_pending_messages'),
        redelivered: value('nats_consumer_redelivered_messages'),
      };
    };
    const serverSays = async () => {
      const info = await bus.manager.consumers.info(DEFAULT_STREAM, consumer);
      return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    };
    try {
      const events = 200;
      for (let i = 0; i < events; i++) {
        const data = { id: new Types.ObjectId().toHexString(), version: 0, title: 'held', price: 1, userId: 'u' };
        await bus.publish(Subjects.TicketCreated, data, eventMessageId(Subjects.TicketCreated, data));
      }
      // Nothing is acknowledged: each event is either still in the stream or delivered and waiting.
      const settled = await waitFor(
        async () => {
          const server = await serverSays();
          return server.pending + server.ackPending === events && server.pending > 0 ? server : null;
        },
        { what: 'the consumer holding what its client asked for' },
      );
      expect(settled.ackPending).toBeGreaterThan(0);
      const shown = await gauges();
      expect(shown).toEqual({
        pending: { value: settled.pending, subject: Subjects.TicketCreated },
        ackPending: { value: settled.ackPending, subject: Subjects.TicketCreated },
        redelivered: { value: settled.redelivered, subject: Subjects.TicketCreated },
      });
      expect(await serverSays()).toEqual(settled); // nothing moved meanwhile: the comparison was fair

      await nats.stop();
      expect(await gauges()).toEqual({ pending: undefined, ackPending: undefined, redelivered: undefined });
      await nats.start();
    } finally {
      release();
      await listener.close();
    }
  });
});
