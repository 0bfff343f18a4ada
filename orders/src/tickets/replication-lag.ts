import { Histogram, type Registry } from 'prom-client';
import type { MessageContext } from '@ticketing/common';

/**
 * `ticket_replication_lag_seconds`: from a ticket event's publication (when NATS stored it, by the
 * server's clock) to this copy's replica having it (its write done), by subject. Only events that
 * changed the replica count: a duplicate says nothing about how far behind the replica is.
 * The clocks are the NATS server's and this process's: on one machine the same; in a cluster as
 * close as NTP keeps them, so a lag below that skew reads as 0.
 */
export class ReplicationLag {
  private readonly histogram: Histogram<'subject'>;

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'ticket_replication_lag_seconds',
      help: 'From a ticket event stored by NATS to its replica written in orders, by subject',
      labelNames: ['subject'],
      // From a quiet system's few milliseconds to a backlog drained after an outage.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
  }

  observe({ subject, publishedAtMs }: Pick<MessageContext, 'subject' | 'publishedAtMs'>, nowMs = Date.now()): void {
    this.histogram.observe({ subject }, Math.max(0, nowMs - publishedAtMs) / 1000);
  }
}
