import { OrderStatus, Subjects, type OrderEventData } from '@ticketing/common';
import { readDeadLetters, waitFor, newId } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { buildOrderEvent, buildTicket } from '../test-kit/builders';
import { publishedTicketEvents, publishOrderEvent } from '../test-kit/events';
import { afterHandled, afterRetried } from '@ticketing/common/testing';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { Ticket } from '../tickets/ticket.model';
import { OrderRef } from './order-replica.model';

describe('order:updated listener (real nats-server and MongoDB-protocol server)', () => {
  const t = useHarness({ listeners: true });
  const created = (order: OrderEventData) => publishOrderEvent(t.bus, Subjects.OrderCreated, order);
  const updated = (order: OrderEventData, delivery?: string) => publishOrderEvent(t.bus, Subjects.OrderUpdated, order, delivery);

  /** A ticket reserved by a freshly created order (ticket at version 1, order at version 0). */
  async function givenReservedTicket() {
    const ticket = await buildTicket({ title: 'Concert', price: 20, userId: 'seller-1' }, t.relay);
    const order = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    await afterHandled(t.listeners.orderCreated, () => created(order));
    expect((await Ticket.findById(ticket.id).orFail()).orderId).toBe(order.id);
    return { ticket, order };
  }

  it('when the order is cancelled, then the ticket is free again and ticket:updated (v2, without orderId) is published', async () => {
    const { ticket, order } = await givenReservedTicket();

    await afterHandled(t.listeners.orderUpdated, () => updated({ ...order, version: 1, status: OrderStatus.Cancelled }));

    const freed = await Ticket.findById(ticket.id).orFail();
    expect(freed.orderId).toBeUndefined();
    expect(freed.version).toBe(2);
    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.at(-1)).toEqual({
      subject: Subjects.TicketUpdated,
      data: { id: ticket.id, version: 2, title: 'Concert', price: 20, userId: 'seller-1' },
      msgId: `ticket:updated:${ticket.id}:2`,
    });
    expect(await OrderRef.findById(order.id).lean()).toMatchObject({ version: 1, status: OrderStatus.Cancelled });
  });

  it('when the order moves to awaiting payment and then completes, then the ticket stays reserved and no ticket event is published', async () => {
    const { ticket, order } = await givenReservedTicket();

    await afterHandled(t.listeners.orderUpdated, () => updated({ ...order, version: 1, status: OrderStatus.AwaitingPayment }));
    await afterHandled(t.listeners.orderUpdated, () => updated({ ...order, version: 2, status: OrderStatus.Complete }));

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0, 1]);
    expect(await OrderRef.findById(order.id).lean()).toMatchObject({ version: 2, status: OrderStatus.Complete });
  });

  it('when order:updated arrives before its order:created, then it is retried (not dropped) and applied after it', async () => {
    const ticket = await buildTicket({}, t.relay);
    const order = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    const handledBefore = t.listeners.orderUpdated.stats.handled;

    await afterRetried(t.listeners.orderUpdated, () => updated({ ...order, version: 1, status: OrderStatus.Cancelled }));
    expect(t.listeners.orderUpdated.stats.handled).toBe(handledBefore);
    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ version: 0 });

    await created(order);

    await waitFor(() => t.listeners.orderUpdated.stats.handled === handledBefore + 1, { what: 'the early cancel to be applied' });
    const final = await Ticket.findById(ticket.id).orFail();
    expect(final.orderId).toBeUndefined();
    expect(final.version).toBe(2);
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => [e.data.version, e.data.orderId])).toEqual([
      [0, undefined],
      [1, order.id],
      [2, undefined],
    ]);
  });

  it('when version 2 of an order arrives before version 1, then it waits for version 1', async () => {
    const { ticket, order } = await givenReservedTicket();

    await afterRetried(t.listeners.orderUpdated, () => updated({ ...order, version: 2, status: OrderStatus.Cancelled }));
    expect(await OrderRef.findById(order.id).lean()).toMatchObject({ version: 0 });
    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id });

    // both are handled: version 1, then the waiting version 2
    await afterHandled(t.listeners.orderUpdated, () => updated({ ...order, version: 1, status: OrderStatus.AwaitingPayment }), 2);

    expect(await OrderRef.findById(order.id).lean()).toMatchObject({ version: 2, status: OrderStatus.Cancelled });
    expect((await Ticket.findById(ticket.id).orFail()).orderId).toBeUndefined();
  });

  it('when a cancellation is delivered twice, then the second is acknowledged with no change, even after the ticket was reserved again', async () => {
    const { ticket, order } = await givenReservedTicket();
    const cancel = { ...order, version: 1, status: OrderStatus.Cancelled };
    await afterHandled(t.listeners.orderUpdated, () => updated(cancel));
    const next = buildOrderEvent({ ticket: { id: ticket.id, price: 20 } });
    await afterHandled(t.listeners.orderCreated, () => created(next));

    await afterHandled(t.listeners.orderUpdated, () => updated(cancel, ':redelivered'));

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: next.id, version: 3 });
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0, 1, 2, 3]);
  });

  it('when an order is cancelled but its ticket is held by another order, then the ticket is left alone', async () => {
    const { ticket, order } = await givenReservedTicket();
    // the record says this ticket, but the ticket names another order (e.g. replayed history)
    const other = newId();
    await OrderRef.create({ _id: other, ticketId: ticket.id, version: 0, status: OrderStatus.Created });

    await afterHandled(t.listeners.orderUpdated, () =>
      updated(buildOrderEvent({ id: other, version: 1, status: OrderStatus.Cancelled, ticket: { id: ticket.id, price: 20 } })),
    );

    expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId: order.id, version: 1 });
    expect(await OrderRef.findById(other).lean()).toMatchObject({ version: 1, status: OrderStatus.Cancelled });
  });

  it('when an order:updated is malformed, then it is dead-lettered with the reason', async () => {
    const before = t.listeners.orderUpdated.stats.deadLettered;
    await t.bus.publish(Subjects.OrderUpdated, { ...buildOrderEvent(), version: -1, extra: true }, `bad-${newId()}`);

    const letter = await waitFor(async () =>
      (await readDeadLetters(t.bus, QUEUE_GROUP_NAME)).find((l) => l.subject === Subjects.OrderUpdated),
    );
    expect(letter.reason).toMatch(/^malformed event: /);
    expect(letter.reason).toMatch(/version/);
    expect(t.listeners.orderUpdated.stats.deadLettered).toBe(before + 1);
  });
});
