import { recordEvent, type OrderCreatedEvent, type OrderEventData, type OrderUpdatedEvent } from '@ticketing/common';
import type { OrderDocument, OrderFields } from './order.model';

/** The payload of order:created / order:updated for the order as it will be after the save. */
export function orderEventData(
  order: Pick<OrderFields, 'status' | 'userId' | 'expiresAt'> & { id: string },
  ticket: { id: string; price: number },
  version: number,
): OrderEventData {
  return {
    id: order.id,
    version,
    status: order.status,
    userId: order.userId,
    expiresAt: order.expiresAt.toISOString(),
    ticket: { id: ticket.id, price: ticket.price },
  };
}

/**
 * Queues the event of the order as it now is, carrying the version its next save gives it; that
 * save (`relay.saveAndDispatch`) stores both in one write, then has the event published.
 */
export function recordOrderEvent(
  order: OrderDocument,
  subject: (OrderCreatedEvent | OrderUpdatedEvent)['subject'],
  ticket: { id: string; price: number },
): void {
  recordEvent<OrderCreatedEvent | OrderUpdatedEvent>(order, subject, (version) => orderEventData(order, ticket, version));
}
