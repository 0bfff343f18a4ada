import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ListenerStats } from '../bus/listener';
import type { Bus, ConsumerState } from '../bus/types';

/** What the metrics read of a listener: its subject and its counters. */
export interface ObservedListener {
  readonly subject: string;
  readonly stats: ListenerStats;
}

/** What the metrics read of an outbox relay. */
export interface ObservedOutbox {
  readonly published: number;
  readonly publishFailures: number;
  /** Events handed to the relay and not yet stored by the bus, and how long the oldest has waited. */
  waiting(): { events: number; oldestMs: number };
}

const OUTCOMES: [keyof ListenerStats, string][] = [
  ['applied', 'applied'],
  ['duplicates', 'duplicate'],
  ['retried', 'retried'],
  ['deadLettered', 'dead_lettered'],
];

/**
 * One service copy's Prometheus metrics, in a registry of its own (no global state): Node's
 * process and runtime metrics (event-loop lag, heap, GC), HTTP request durations by route
 * template, events handled by subject and outcome, and the outbox. Counters kept elsewhere
 * (listeners, relay) are read when Prometheus scrapes, so the hot paths do no extra work.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly listeners: ObservedListener[] = [];
  private outbox?: ObservedOutbox;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Requests refused by the per-client rate limit (`clientRateLimit`), by its policy. */
  readonly rateLimited: Counter<'policy'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.rateLimited = new Counter({
      name: 'http_rate_limited_total',
      help: 'Requests this copy refused with 429 by its per-client rate limit, by policy (user or anonymous)',
      labelNames: ['policy'],
      registers: [this.registry],
    });
    this.rateLimited.inc({ policy: 'user' }, 0);
    this.rateLimited.inc({ policy: 'anonymous' }, 0);
    const listeners = this.listeners;
    new Counter({
      name: 'events_handled_total',
      help: 'Event deliveries handled by this copy, by subject and outcome',
      labelNames: ['subject', 'outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const listener of listeners) {
          for (const [field, outcome] of OUTCOMES) this.inc({ subject: listener.subject, outcome }, listener.stats[field]);
        }
      },
    });
    const outbox = () => this.outbox;
    const readAtScrape = (kind: typeof Counter | typeof Gauge, name: string, help: string, read: () => number) =>
      new kind({
        name,
        help,
        registers: [this.registry],
        // A counter kept elsewhere is shown as it is: reset, then set to the value.
        collect() {
          if (this instanceof Counter) {
            this.reset();
            this.inc(read());
          } else this.set(read());
        },
      });
    readAtScrape(Counter, 'outbox_events_published_total', 'Events this copy had stored by the bus', () => outbox()?.published ?? 0);
    readAtScrape(
      Counter,
      'outbox_publish_failures_total',
      'Publications that failed and were left for the sweep',
      () => outbox()?.publishFailures ?? 0,
    );
    readAtScrape(
      Gauge,
      'outbox_events_waiting',
      'Events written with their record and not yet stored by the bus',
      () => outbox()?.waiting().events ?? 0,
    );
    readAtScrape(
      Gauge,
      'outbox_oldest_waiting_seconds',
      'How long the oldest waiting event has waited',
      () => (outbox()?.waiting().oldestMs ?? 0) / 1000,
    );
  }

  /**
   * Per durable consumer, as the server reports it when Prometheus scrapes: messages pending
   * delivery, delivered and waiting for an ack, redelivered and waiting. One request per consumer
   * per scrape, shared by the three gauges; a server that does not answer within `timeoutMs`
   * (NATS down) leaves the series out of that scrape rather than holding the scrape up. A bus
   * that cannot tell (NATS Streaming) adds none.
   */
  observeConsumers(bus: Pick<Bus, 'consumerStates'>, timeoutMs = 1000): this {
    if (!bus.consumerStates) return this;
    const read = () => bus.consumerStates!();
    let current: Promise<ConsumerState[]> | undefined;
    const states = () =>
      (current ??= withTimeout(read(), timeoutMs)
        .catch(() => [])
        .finally(() => (current = undefined)));
    const gauge = (name: string, help: string, field: 'pending' | 'ackPending' | 'redelivered') =>
      new Gauge({
        name,
        help,
        labelNames: ['consumer', 'subject'],
        registers: [this.registry],
        async collect() {
          const all = await states();
          this.reset();
          for (const state of all) this.set({ consumer: state.consumer, subject: state.subject }, state[field]);
        },
      });
    gauge('nats_consumer_pending_messages', 'Messages in the stream not yet delivered to the durable consumer', 'pending');
    gauge('nats_consumer_ack_pending_messages', 'Messages delivered to the durable consumer and not yet acknowledged', 'ackPending');
    gauge('nats_consumer_redelivered_messages', 'Messages delivered more than once and not yet acknowledged', 'redelivered');
    return this;
  }

  observeListeners(listeners: ObservedListener[]): this {
    this.listeners.push(...listeners);
    return this;
  }

  observeOutbox(outbox: ObservedOutbox): this {
    this.outbox = outbox;
    return this;
  }

  /** Times every request but the probes and the scrape, labelled by the route that answered it. */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      if (req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics') return next();
      const end = this.requestDuration.startTimer({ method: req.method });
      res.on('finish', () => {
        // The template (`/api/tickets/:id`), never the path: ids would make a series per ticket.
        const route = req.route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(req.route.path)}`;
        end({ route, status_code: String(res.statusCode) });
      });
      next();
    };
  }
}

/** The promise's value, or a rejection once `ms` have passed without one. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
