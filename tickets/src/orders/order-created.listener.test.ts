import { OrderStatus, Subjects } from '@ticketing/common';
import { readDeadLetters, waitFor, newId } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { buildOrderEvent, buildTicket } from '../test-kit/builders';
import { publishedTicketEvents, publishOrderEvent } from '../test-kit/events';
import { afterHandled, afterRetried } from '@ticketing/common/testing';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { Ticket } from '../tickets/ticket.model';
import { reserveTicket } from '../tickets/reservation';
import { OrderRef } from './order-replica.model';

describe('order:created listener (real nats-server and MongoDB-protocol server)', () => {
  const t = useHarness({ listeners: true });
  const orderCreated = (order: ReturnType<typeof buildOrderEvent>, delivery?: string) =>
    publishOrderEvent(t.bus, Subjects.OrderCreated, order, delivery);

  it('when an order is created for a free ticket, then the ticket is reserved for it and ticket:updated (v1, with orderId) is published', async () => {
    const ticket = await buildTicket({ title: 'Concert', price: 20, userId: 'seller-1' }, t.relay);
    const order = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });

    await afterHandled(t.listeners.orderCreated, () => orderCreated(order));

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.map((e) => [e.subject, e.data])).toEqual([
      [Subjects.TicketCreated, { id: ticket.id, version: 0, title: 'Concert', price: 20, userId: 'seller-1' }],
      [Subjects.TicketUpdated, { id: ticket.id, version: 1, title: 'Concert', price: 20, userId: 'seller-1', orderId: order.id }],
    ]);
    expect(await OrderRef.findById(order.id).lean()).toEqual({
      _id: order.id,
      ticketId: ticket.id,
      version: 0,
      status: OrderStatus.Created,
    });
  });

  it('when the same order:created is delivered again, then it is acknowledged and nothing changes', async () => {
    const ticket = await buildTicket({}, t.relay);
    const order = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    await afterHandled(t.listeners.orderCreated, () => orderCreated(order));

    await afterHandled(t.listeners.orderCreated, () => orderCreated(order, ':redelivered'));

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0, 1]);
  });

  it('when the ticket does not exist yet, then the event is retried (not acknowledged) and applied once the ticket arrives', async () => {
    const ticketId = newId();
    const order = buildOrderEvent({ ticket: { id: ticketId, price: 20 } });
    const handledBefore = t.listeners.orderCreated.stats.handled;

    await afterRetried(t.listeners.orderCreated, () => orderCreated(order));
    expect(t.listeners.orderCreated.stats.handled).toBe(handledBefore);
    expect(await OrderRef.exists({ _id: order.id })).toBeNull();

    await buildTicket({ id: ticketId }, t.relay);

    await waitFor(() => t.listeners.orderCreated.stats.handled === handledBefore + 1, { what: 'the retried event to be applied' });
    expect(await Ticket.findById(ticketId).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    expect((await publishedTicketEvents(t.bus, ticketId)).map((e) => [e.data.version, e.data.orderId])).toEqual([
      [0, undefined],
      [1, order.id],
    ]);
  });

  it('when the service stopped after reserving but before recording the order, then redelivery records it without bumping the ticket again', async () => {
    const ticket = await buildTicket({}, t.relay);
    const order = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    // the first delivery's ticket write, as it was left by a crash just after it
    reserveTicket(ticket, order.id);
    await ticket.save();
    void t.relay.dispatch(ticket);

    await afterHandled(t.listeners.orderCreated, () => orderCreated(order));

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    expect(await OrderRef.findById(order.id).lean()).toMatchObject({ ticketId: ticket.id, version: 0 });
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0, 1]);
  });

  it('when the ticket is still held by an earlier order, then the new order waits until that one is cancelled', async () => {
    const ticket = await buildTicket({}, t.relay);
    const first = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    await afterHandled(t.listeners.orderCreated, () => orderCreated(first));
    const second = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    const handledBefore = t.listeners.orderCreated.stats.handled;

    await afterRetried(t.listeners.orderCreated, () => orderCreated(second));
    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: first.id, version: 1 });

    await publishOrderEvent(t.bus, Subjects.OrderUpdated, { ...first, version: 1, status: OrderStatus.Cancelled });

    await waitFor(() => t.listeners.orderCreated.stats.handled === handledBefore + 1, { what: 'the second order to be applied' });
    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: second.id, version: 3 });
    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.map((e) => [e.data.version, e.data.orderId])).toEqual([
      [0, undefined],
      [1, first.id],
      [2, undefined],
      [3, second.id],
    ]);
  });

  it('when an order event is malformed, then it is dead-lettered with the reason and the next one is still applied', async () => {
    const ticket = await buildTicket({}, t.relay);
    const before = t.listeners.orderCreated.stats.deadLettered;

    await t.bus.publish(Subjects.OrderCreated, { id: 'not-an-order', status: 'shipped' }, `bad-${newId()}`);
    const good = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    await afterHandled(t.listeners.orderCreated, () => orderCreated(good));

    expect((await Ticket.findById(ticket.id).orFail()).orderId).toBe(good.id);
    const letters = await waitFor(async () => {
      const all = await readDeadLetters(t.bus, QUEUE_GROUP_NAME);
      return all.filter((l) => l.payload.includes('not-an-order')).length ? all : null;
    });
    const letter = letters.find((l) => l.payload.includes('not-an-order'))!;
    expect(letter).toMatchObject({ group: QUEUE_GROUP_NAME, subject: Subjects.OrderCreated });
    expect(letter.reason).toMatch(/^malformed event: .*id: must be a 24-hex-digit id/);
    expect(letter.reason).toMatch(/status/);
    expect(t.listeners.orderCreated.stats.deadLettered).toBe(before + 1);
  });
});
