import type { Bus, ListenerStats, Logger, OutboxRelay, ServiceMetrics } from '@ticketing/common';
import { ReplicaVersions } from './tickets/replica-versions';
import { ReplicationLag } from './tickets/replication-lag';
import { TicketCreatedListener } from './tickets/ticket-created.listener';
import { TicketUpdatedListener } from './tickets/ticket-updated.listener';

/** The listeners of this service, one per subject it replicates, named after the subject. */
export interface ServiceListeners {
  ticketCreated: TicketCreatedListener;
  ticketUpdated: TicketUpdatedListener;
}

/**
 * Built, not yet listening: service.ts (and the test harness, when asked) starts them. They share
 * the replica versions this copy knows, so the first update of a ticket it just created can join
 * a bulk write. The replica is written by the listeners alone: nothing here goes through the outbox.
 * With `metrics`, they observe the replication lag there.
 */
export function createListeners(bus: Bus, { logger, metrics }: { logger?: Logger; metrics?: ServiceMetrics }): ServiceListeners {
  const versions = new ReplicaVersions();
  const lag = metrics && new ReplicationLag(metrics.registry);
  return {
    ticketCreated: new TicketCreatedListener(bus, logger?.child({ listener: 'ticket:created' }), versions, lag),
    ticketUpdated: new TicketUpdatedListener(bus, logger?.child({ listener: 'ticket:updated' }), versions, lag),
  };
}

export interface ServiceStats {
  listeners: { 'ticket:created': ListenerStats; 'ticket:updated': ListenerStats };
  /** ticket:updated events applied many to a write (see TicketUpdatedListener). */
  bulk: { writes: number; events: number; fellBack: number };
  outbox: { published: number };
}

/**
 * `GET /internal/stats`: what this copy handled. End-to-end tests add the counts of every copy to
 * prove each event was applied by exactly one of them.
 */
export function serviceStats(listeners: ServiceListeners, relay: OutboxRelay): ServiceStats {
  return {
    listeners: { 'ticket:created': { ...listeners.ticketCreated.stats }, 'ticket:updated': { ...listeners.ticketUpdated.stats } },
    bulk: { ...listeners.ticketUpdated.bulk },
    outbox: { published: relay.published },
  };
}
