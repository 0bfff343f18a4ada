import type { OrderEventData, TicketEventData } from '@ticketing/common';
import { publishEvent, settledEvents, type PublishedEvent, type JetStreamBus, type Subject } from '@ticketing/common/testing';
import { Ticket } from '../tickets/ticket.model';

/** Every ticket event stored in the stream about this ticket, once its outbox is empty (see `settledEvents`). */
export function publishedTicketEvents(bus: JetStreamBus, ticketId: string): Promise<PublishedEvent<TicketEventData>[]> {
  return settledEvents<TicketEventData>(bus, Ticket, 'ticket', ticketId);
}

/** Publishes an order event as the orders service would (`delivery`: see `publishEvent`). */
export function publishOrderEvent(bus: JetStreamBus, subject: Subject, data: OrderEventData, delivery = ''): Promise<void> {
  return publishEvent(bus, subject, data, delivery);
}
