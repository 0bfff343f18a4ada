import type { TicketEventData } from '@ticketing/common';
import { newId } from '@ticketing/common/testing';
import { Ticket, replicaView, type ReplicaView } from '../tickets/ticket-replica.model';

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

/** A clock tests move by hand. */
export function fakeClock(start = new Date('2030-01-01T12:00:00.000Z')) {
  let now = start.getTime();
  const clock = () => new Date(now);
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}
