import type { Bus, ListenerStats, Logger, OutboxRelay } from '@ticketing/common';
import { OrderCreatedListener } from './orders/order-created.listener';
import { OrderUpdatedListener } from './orders/order-updated.listener';

export interface TicketsListeners {
  orderCreated: OrderCreatedListener;
  orderUpdated: OrderUpdatedListener;
}

export function createListeners(bus: Bus, relay: OutboxRelay, logger?: Logger): TicketsListeners {
  return {
    orderCreated: new OrderCreatedListener(bus, relay, logger?.child({ listener: 'order:created' })),
    orderUpdated: new OrderUpdatedListener(bus, relay, logger?.child({ listener: 'order:updated' })),
  };
}

export interface TicketsStats {
  listeners: { 'order:created': ListenerStats; 'order:updated': ListenerStats };
  outbox: { published: number };
}

/** What `/internal/stats` shows: per-copy work, for end-to-end tests and debugging. */
export function ticketsStats(listeners: TicketsListeners, relay: OutboxRelay): TicketsStats {
  return {
    listeners: { 'order:created': { ...listeners.orderCreated.stats }, 'order:updated': { ...listeners.orderUpdated.stats } },
    outbox: { published: relay.published },
  };
}
