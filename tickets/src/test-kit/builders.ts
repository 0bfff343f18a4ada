import { OrderStatus, Subjects, type OrderEventData, type OutboxRelay } from '@ticketing/common';
import { newId } from '@ticketing/common/testing';
import { Ticket, type TicketAttrs, type TicketDoc } from '../tickets/ticket.model';
import { recordTicketEvent } from '../tickets/ticket-events';

/** A valid create/update body. */
export const ticketBody = (overrides: Partial<{ title: unknown; price: unknown }> = {}) => ({
  title: 'Concert',
  price: 20,
  ...overrides,
});

/**
 * A stored ticket (version 0), for arranging state a test is not about. Given a relay, it is
 * created as the API creates one: its `ticket:created` is recorded and published before this
 * returns. Either way nothing is left in its outbox, so no background publication races the test.
 */
export async function buildTicket(attrs: Partial<TicketAttrs> = {}, relay?: OutboxRelay): Promise<TicketDoc> {
  const ticket = Ticket.build({ title: 'Concert', price: 20, userId: 'owner-1', ...attrs });
  if (relay) recordTicketEvent(ticket, Subjects.TicketCreated);
  await ticket.save();
  if (relay) await relay.dispatch(ticket);
  return ticket;
}

/** An order event payload as the orders service publishes it. */
export function buildOrderEvent(overrides: Partial<OrderEventData> = {}): OrderEventData {
  return {
    id: newId(),
    version: 0,
    status: OrderStatus.Created,
    userId: 'buyer-1',
    expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    ticket: { id: newId(), price: 20 },
    ...overrides,
  };
}
