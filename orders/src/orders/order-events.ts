import type { OrderEventData } from '@ticketing/common';
import type { OrderFields } from './order.model';

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
