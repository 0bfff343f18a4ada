import type { TicketFields } from './ticket.model';

export interface TicketView {
  id: string;
  title: string;
  price: number;
  userId: string;
  version: number;
  orderId?: string;
}

/** The one JSON shape of a ticket in every response: `id` instead of `_id`, and the pending events (`outbox`) never leak. */
export function ticketView(t: Omit<TicketFields, 'outbox'> & { _id: unknown }): TicketView {
  return {
    id: String(t._id),
    title: t.title,
    price: t.price,
    userId: t.userId,
    version: t.version,
    ...(t.orderId ? { orderId: t.orderId } : {}),
  };
}
