import type { TicketEventData } from '@ticketing/common';
import type { TicketFields } from './ticket.model';

/**
 * The payload of `ticket:created` / `ticket:updated`. `version` is passed in, not read from the
 * document: the event is recorded before the save that gives the document that version.
 */
export function toTicketEventData(ticket: TicketFields & { id: string }, version: number): TicketEventData {
  return {
    id: ticket.id,
    version,
    title: ticket.title,
    price: ticket.price,
    userId: ticket.userId,
    ...(ticket.orderId ? { orderId: ticket.orderId } : {}),
  };
}
