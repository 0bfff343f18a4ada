import { eventMessageId, eventSchemas } from './contracts';
import { Subjects } from './subjects';

const id = 'a'.repeat(24);

describe('event contracts', () => {
  it('accept a well-formed ticket and order payload', () => {
    expect(
      eventSchemas[Subjects.TicketUpdated].safeParse({ id, version: 2, title: 't', price: 15, userId: 'u', orderId: id }).success,
    ).toBe(true);
    const order = {
      id,
      version: 0,
      status: 'awaiting:payment',
      userId: 'u',
      expiresAt: new Date().toISOString(),
      ticket: { id, price: 5 },
    };
    expect(eventSchemas[Subjects.OrderCreated].safeParse(order).success).toBe(true);
  });

  it('reject wrong types, unknown statuses, negative versions and extra fields', () => {
    const ticket = eventSchemas[Subjects.TicketCreated];
    expect(ticket.safeParse({ id, version: '1', title: 't', price: 1, userId: 'u' }).success).toBe(false);
    expect(ticket.safeParse({ id, version: -1, title: 't', price: 1, userId: 'u' }).success).toBe(false);
    expect(ticket.safeParse({ id, version: 1.5, title: 't', price: 1, userId: 'u' }).success).toBe(false);
    expect(ticket.safeParse({ id, version: 1, title: 't', price: 1, userId: 'u', admin: true }).success).toBe(false);
    const order = { id, version: 0, status: 'shipped', userId: 'u', expiresAt: new Date().toISOString(), ticket: { id, price: 5 } };
    expect(eventSchemas[Subjects.OrderUpdated].safeParse(order).success).toBe(false);
  });

  it('give one message id per subject, record and version', () => {
    expect(eventMessageId(Subjects.TicketUpdated, { id, version: 3 })).toBe(`ticket:updated:${id}:3`);
    expect(eventMessageId(Subjects.TicketUpdated, { id, version: 3 })).not.toBe(eventMessageId(Subjects.TicketUpdated, { id, version: 4 }));
  });
});
