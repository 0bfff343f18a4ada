import { OrderStatus, Subjects } from '@ticketing/common';
import { authHeader, newId, testToken } from '@ticketing/common/testing';
import request from 'supertest';
import { givenTicket } from '../test-kit/builders';
import { publishedOrderEvents } from '../test-kit/events';
import { useHarness } from '../test-kit/harness';
import { RaceClient } from '../test-kit/http-client';
import { Order } from './order.model';

describe('DELETE /api/orders/:id cancels an order (real MongoDB-protocol server and nats-server)', () => {
  const h = useHarness();

  const placeOrder = async (token: string, price = 20) => {
    const ticket = await givenTicket({ price });
    const res = await request(h.app).post('/api/orders').set(authHeader(token)).send({ ticketId: ticket.id }).expect(201);
    return res.body as { id: string; expiresAt: string; userId: string; ticket: { id: string } };
  };
  const cancel = (id: string, token: string) => request(h.app).delete(`/api/orders/${id}`).set(authHeader(token));
  /** Waits until nothing is left to publish for the order, then returns the order:updated events published. */
  const settledUpdatedEvents = async (id: string) =>
    (await publishedOrderEvents(h.bus, id)).filter((e) => e.subject === Subjects.OrderUpdated).map((e) => e.data);

  it('when the owner cancels a created order, then 200, it is stored cancelled at version 1, and order:updated is published', async () => {
    const token = testToken({ id: 'canceller' });
    const placed = await placeOrder(token, 35);

    const res = await cancel(placed.id, token).expect(200);

    expect(res.body).toMatchObject({ id: placed.id, status: 'cancelled', version: 1, userId: 'canceller', expiresAt: placed.expiresAt });
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: OrderStatus.Cancelled, version: 1 });
    expect(await settledUpdatedEvents(placed.id)).toEqual([
      {
        id: placed.id,
        version: 1,
        status: 'cancelled',
        userId: 'canceller',
        expiresAt: placed.expiresAt,
        ticket: { id: placed.ticket.id, price: 35 },
      },
    ]);
  });

  it('when an order awaiting payment is cancelled, then it becomes cancelled too', async () => {
    const token = testToken();
    const placed = await placeOrder(token);
    await Order.updateOne({ _id: placed.id }, { $set: { status: OrderStatus.AwaitingPayment } });

    const res = await cancel(placed.id, token).expect(200);

    expect(res.body.status).toBe('cancelled');
    expect((await settledUpdatedEvents(placed.id)).map((e) => e.status)).toEqual(['cancelled']);
  });

  it('when an order is cancelled, then its ticket can be ordered again', async () => {
    const token = testToken();
    const placed = await placeOrder(token);
    await cancel(placed.id, token).expect(200);

    const again = await request(h.app).post('/api/orders').set(authHeader(testToken())).send({ ticketId: placed.ticket.id }).expect(201);

    expect(again.body.ticket.id).toBe(placed.ticket.id);
  });

  it('when a cancelled order is cancelled again, then 409 and no second event', async () => {
    const token = testToken();
    const placed = await placeOrder(token);
    await cancel(placed.id, token).expect(200);

    const res = await cancel(placed.id, token).expect(409);

    expect(res.body.errors).toEqual([{ message: 'A cancelled order cannot be cancelled' }]);
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'cancelled', version: 1 });
    expect(await settledUpdatedEvents(placed.id)).toHaveLength(1);
  });

  it('when a complete order is cancelled, then 409, it stays complete and nothing is published', async () => {
    const token = testToken();
    const placed = await placeOrder(token);
    await Order.updateOne({ _id: placed.id }, { $set: { status: OrderStatus.Complete } });

    const res = await cancel(placed.id, token).expect(409);

    expect(res.body.errors).toEqual([{ message: 'A complete order cannot be cancelled' }]);
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'complete', version: 0 });
    expect(await settledUpdatedEvents(placed.id)).toHaveLength(0);
  });

  it('when the same order is cancelled by several requests at once over real HTTP, then exactly one succeeds and one event is published', async () => {
    const token = testToken();
    const placed = await placeOrder(token);
    const server = h.app.listen(0);
    const client = new RaceClient(server, 20);
    await client.warm(20);

    const statuses = (
      await Promise.all(Array.from({ length: 20 }, () => client.send('DELETE', `/api/orders/${placed.id}`, undefined, authHeader(token))))
    ).map((r) => r.status);
    client.close();
    server.close();

    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'cancelled', version: 1 });
    expect(await settledUpdatedEvents(placed.id)).toHaveLength(1);
  });

  it('when someone else cancels my order, then 404 and it stays created', async () => {
    const placed = await placeOrder(testToken());
    await cancel(placed.id, testToken()).expect(404);
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'created', version: 0 });
  });

  it.each([
    ['unknown', newId()],
    ['malformed', 'x'],
  ])('when the order id is %s, then 404', async (_what, id) => {
    await cancel(id, testToken()).expect(404);
  });

  it('when not signed in, then 401', async () => {
    await request(h.app).delete(`/api/orders/${newId()}`).expect(401);
  });
});
