import { Subjects } from '@ticketing/common';
import type { TicketDoc } from './ticket.model';
import { recordTicketEvent } from './ticket-events';

/**
 * Marks the ticket as held by an order and queues the `ticket:updated` saying so; both are
 * stored by the caller's next `save()`, which also bumps the version the event carries.
 */
export function reserveTicket(ticket: TicketDoc, orderId: string): void {
  ticket.set('orderId', orderId);
  recordTicketEvent(ticket, Subjects.TicketUpdated);
}

/** Frees the ticket (no `orderId` in the event means free), stored by the next `save()`. */
export function releaseTicket(ticket: TicketDoc): void {
  ticket.set('orderId', undefined);
  recordTicketEvent(ticket, Subjects.TicketUpdated);
}
