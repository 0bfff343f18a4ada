import type { JetStreamBus, Subject, TicketEventData } from '@ticketing/common';
import { publishEvent, readStream } from '@ticketing/common/testing';

/** The events really stored in the stream for one record. */
export async function publishedEvents<T extends { id: string }>(bus: JetStreamBus, subject: Subject, id: string): Promise<T[]> {
  return (await readStream<T>(bus, { subject })).map((m) => m.data).filter((d) => d.id === id);
}

/** Publishes a ticket event as the tickets service would (`delivery`: see `publishEvent`). */
export function publishTicketEvent(bus: JetStreamBus, subject: Subject, data: TicketEventData, delivery = ''): Promise<void> {
  return publishEvent(bus, subject, data, delivery);
}
