import { Subjects, eventMessageId, type Subject, type TicketEventData } from '@ticketing/common';
import { Types } from 'mongoose';
import type { JetStreamBus } from '@ticketing/common';
import { readStream } from '@ticketing/common/testing';
import { Ticket, replicaView, type ReplicaView } from '../tickets/ticket-replica.model';

export const newId = () => new Types.ObjectId().toHexString();

/** A ticket event as the tickets service publishes it. */
export function buildTicketEvent(overrides: Partial<TicketEventData> = {}): TicketEventData {
  return { id: newId(), version: 0, title: 'concert', price: 20, userId: 'seller-1', ...overrides };
}

/** A replica already in the database (the arrange step of route tests; listeners are tested apart). */
export async function givenTicket(
  overrides: Partial<{ id: string; title: string; price: number; version: number }> = {},
): Promise<ReplicaView> {
  const ticket = await Ticket.create({ _id: overrides.id ?? newId(), title: 'concert', price: 20, version: 0, ...overrides });
  return replicaView(ticket);
}

/** Publishes as the tickets service would; `msgId` lets a test send a true duplicate delivery. */
export function publishTicketEvent(
  bus: JetStreamBus,
  subject: typeof Subjects.TicketCreated | typeof Subjects.TicketUpdated,
  data: TicketEventData,
  msgId = eventMessageId(subject, data),
) {
  return bus.publish(subject, data, msgId);
}

/** The events really stored in the stream for one record. */
export async function publishedEvents<T extends { id: string }>(bus: JetStreamBus, subject: Subject, id: string): Promise<T[]> {
  return (await readStream<T>(bus, { subject })).map((m) => m.data).filter((d) => d.id === id);
}

/** A clock tests move by hand. */
export function fakeClock(start = new Date('2030-01-01T12:00:00.000Z')) {
  let now = start.getTime();
  const clock = () => new Date(now);
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}
