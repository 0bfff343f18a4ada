import { Router } from 'express';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import type { ListenerStats } from '../bus/listener';
import { silentLogger } from '../logger';
import { createServiceApp } from '../http/service-app';
import { ServiceMetrics } from './service-metrics';

function stats(): ListenerStats {
  return { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };
}

function setUp() {
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
