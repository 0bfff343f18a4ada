import type { JetStreamBus, OrderEventData, Subject, TicketEventData } from '@ticketing/common';
import { publishEvent, readStream, waitFor } from '@ticketing/common/testing';
import { Ticket } from '../tickets/ticket.model';

export interface PublishedTicketEvent {
  subject: string;
  data: TicketEventData;
  msgId?: string;
}

/**
 * Every ticket event really stored in the stream about this ticket, oldest first. Waits until the
 * ticket's outbox is empty first, i.e. until everything its writes recorded has been published:
 * so "no event" is an answer, not a race.
 */
export async function publishedTicketEvents(bus: JetStreamBus, ticketId: string): Promise<PublishedTicketEvent[]> {
  await waitFor(
    async () => {
      const ticket = await Ticket.findById(ticketId, { outbox: 1 }).lean();
      return ticket !== null && ticket.outbox.length === 0;
    },
    { what: `ticket ${ticketId}'s outbox to be published` },
  );
  const stored = await readStream<TicketEventData>(bus);
  return stored
    .filter((m) => m.subject.startsWith('ticket:') && m.data.id === ticketId)
    .map(({ subject, data, msgId }) => ({ subject, data, msgId }));
}

/** Publishes an order event as the orders service would (`delivery`: see `publishEvent`). */
export function publishOrderEvent(bus: JetStreamBus, subject: Subject, data: OrderEventData, delivery = ''): Promise<void> {
  return publishEvent(bus, subject, data, delivery);
}
