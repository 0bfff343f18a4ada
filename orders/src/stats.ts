import { Subjects, type ListenerStats, type OutboxRelay } from '@ticketing/common';

export interface OrdersStats {
  listeners: { [Subjects.TicketCreated]: ListenerStats; [Subjects.TicketUpdated]: ListenerStats };
  outbox: { published: number };
}

const NONE: ListenerStats = { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };

/**
 * `GET /internal/stats`: what this copy handled. End-to-end tests add the counts of every copy to
 * prove each event was applied by exactly one of them.
 */
export function ordersStats(
  relay: OutboxRelay,
  listeners: { created?: { stats: ListenerStats }; updated?: { stats: ListenerStats } } = {},
): () => OrdersStats {
  return () => ({
    listeners: {
      [Subjects.TicketCreated]: { ...(listeners.created?.stats ?? NONE) },
      [Subjects.TicketUpdated]: { ...(listeners.updated?.stats ?? NONE) },
    },
    outbox: { published: relay.published },
  });
}
