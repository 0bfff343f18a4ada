import type { Bus, ListenerStats, Logger, OutboxRelay } from '@ticketing/common';
import { OrderCreatedListener } from './orders/order-created.listener';
import { OrderUpdatedListener } from './orders/order-updated.listener';

/** The listeners of this service, one per subject it replicates, named after the subject. */
export interface ServiceListeners {
  orderCreated: OrderCreatedListener;
  orderUpdated: OrderUpdatedListener;
}

/** Built, not yet listening: service.ts (and the test harness, when asked) starts them. */
export function createListeners(bus: Bus, { relay, logger }: { relay: OutboxRelay; logger?: Logger }): ServiceListeners {
  return {
    orderCreated: new OrderCreatedListener(bus, relay, logger?.child({ listener: 'order:created' })),
    orderUpdated: new OrderUpdatedListener(bus, relay, logger?.child({ listener: 'order:updated' })),
  };
}

export interface ServiceStats {
  listeners: { 'order:created': ListenerStats; 'order:updated': ListenerStats };
  outbox: { published: number };
}

/**
 * `GET /internal/stats`: what this copy handled. End-to-end tests add the counts of every copy to
 * prove each event was applied by exactly one of them.
 */
export function serviceStats(listeners: ServiceListeners, relay: OutboxRelay): ServiceStats {
  return {
    listeners: { 'order:created': { ...listeners.orderCreated.stats }, 'order:updated': { ...listeners.orderUpdated.stats } },
    outbox: { published: relay.published },
  };
}
