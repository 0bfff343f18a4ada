import type { OrderStatus } from '@ticketing/common';
import type { TicketReplica } from '../tickets/ticket-replica.model';
import type { OrderDocument } from './order.model';

export interface OrderView {
  id: string;
  status: OrderStatus;
  expiresAt: string;
  userId: string;
  version: number;
  ticket: { id: string; title: string; price: number };
}

/** The one JSON shape of an order in every response: `id`, never `_id`, `__v` or the outbox. */
export function orderView(order: OrderDocument, ticket: Pick<TicketReplica, '_id' | 'title' | 'price'>): OrderView {
  return {
    id: order.id,
    status: order.status,
    expiresAt: order.expiresAt.toISOString(),
    userId: order.userId,
    version: order.version,
    ticket: { id: String(ticket._id), title: ticket.title, price: ticket.price },
  };
}
