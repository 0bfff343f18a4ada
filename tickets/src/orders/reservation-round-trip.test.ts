import request from 'supertest';
import { OrderStatus, Subjects } from '@ticketing/common';
import { authHeader, testToken } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { buildOrderEvent, ticketBody } from '../test-kit/builders';
import { publishedTicketEvents, publishOrderEvent } from '../test-kit/events';
import { afterHandled } from '@ticketing/common/testing';

describe('reservation round trip through the API (real nats-server and MongoDB-protocol server)', () => {
  const t = useHarness({ listeners: true });

  it('when a ticket is ordered, then it is reserved and cannot be edited; when the order is cancelled, then it is free and editable again', async () => {
    const seller = testToken({ id: 'seller-1' });
    const created = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(seller))
      .send(ticketBody({ title: 'Concert', price: 20 }));
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const order = buildOrderEvent({ ticket: { id, price: 20 } });

    await afterHandled(t.listeners.orderCreated, () => publishOrderEvent(t.bus, Subjects.OrderCreated, order));

    expect((await request(t.app).get(`/api/tickets/${id}`)).body).toMatchObject({ orderId: order.id, version: 1 });
    expect((await request(t.app).get('/api/tickets')).body.tickets.map((x: { id: string }) => x.id)).not.toContain(id);
    const refused = await request(t.app)
      .put(`/api/tickets/${id}`)
      .set(authHeader(seller))
      .send(ticketBody({ price: 25 }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ message: 'The ticket is reserved by an order and cannot be edited' }]);

    await afterHandled(t.listeners.orderUpdated, () =>
      publishOrderEvent(t.bus, Subjects.OrderUpdated, { ...order, version: 1, status: OrderStatus.Cancelled }),
    );

    const freed = await request(t.app).get(`/api/tickets/${id}`);
    expect(freed.body).toEqual({ id, title: 'Concert', price: 20, userId: 'seller-1', version: 2 });
    expect((await request(t.app).get('/api/tickets')).body.tickets.map((x: { id: string }) => x.id)).toContain(id);
    const edited = await request(t.app)
      .put(`/api/tickets/${id}`)
      .set(authHeader(seller))
      .set('If-Match', '"2"')
      .send(ticketBody({ price: 25 }));
    expect(edited.status).toBe(200);
    expect(edited.body.version).toBe(3);

    const events = await publishedTicketEvents(t.bus, id);
    expect(events.map((e) => [e.subject, e.data.version, e.data.orderId, e.data.price])).toEqual([
      [Subjects.TicketCreated, 0, undefined, 20],
      [Subjects.TicketUpdated, 1, order.id, 20],
      [Subjects.TicketUpdated, 2, undefined, 20],
      [Subjects.TicketUpdated, 3, undefined, 25],
    ]);
  });
});
