import { Subjects, type ListenerStats, type OutboxRelay } from '@ticketing/common';

export interface BulkStats {
  writes: number;
  events: number;
  fellBack: number;
}

export interface OrdersStats {
  listeners: { [Subjects.TicketCreated]: ListenerStats; [Subjects.TicketUpdated]: ListenerStats };
  /** ticket:updated events applied many to a write (see TicketUpdatedListener). */
  bulk: BulkStats;
  outbox: { published: number };
}

const NONE: ListenerStats = { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };

/**
 * `GET /internal/stats`: what this copy handled. End-to-end tests add the counts of every copy to
 * prove each event was applied by exactly one of them.
 */
export function ordersStats(
  relay: OutboxRelay,
  listeners: { created?: { stats: ListenerStats }; updated?: { stats: ListenerStats; bulk: BulkStats } } = {},
): () => OrdersStats {
  return () => ({
    listeners: {
      [Subjects.TicketCreated]: { ...(listeners.created?.stats ?? NONE) },
      [Subjects.TicketUpdated]: { ...(listeners.updated?.stats ?? NONE) },
    },
    bulk: { ...(listeners.updated?.bulk ?? { writes: 0, events: 0, fellBack: 0 }) },
    outbox: { published: relay.published },
  });
}
