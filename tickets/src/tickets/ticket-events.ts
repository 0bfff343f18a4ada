import { recordEvent, type TicketCreatedEvent, type TicketEventData, type TicketUpdatedEvent } from '@ticketing/common';
import type { TicketDoc, TicketFields } from './ticket.model';

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

/**
 * Queues the event of the ticket as it now is, carrying the version its next save gives it; that
 * save (`relay.saveAndDispatch`) stores both in one write, then has the event published.
 */
export function recordTicketEvent(ticket: TicketDoc, subject: (TicketCreatedEvent | TicketUpdatedEvent)['subject']): void {
  recordEvent<TicketCreatedEvent | TicketUpdatedEvent>(ticket, subject, (version) => toTicketEventData(ticket, version));
}
