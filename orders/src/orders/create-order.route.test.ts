import { OrderStatus, Subjects, type OrderEventData } from '@ticketing/common';
import { authHeader, newId, readStream, testToken, waitFor } from '@ticketing/common/testing';
import type { Server } from 'node:http';
import { Types } from 'mongoose';
import request from 'supertest';
import { buildTicketEvent, fakeClock, givenTicket } from '../test-kit/builders';
import { publishTicketEvent, publishedOrderEvents } from '../test-kit/events';
import { useHarness } from '../test-kit/harness';
import { RaceClient } from '../test-kit/http-client';
import { Ticket } from '../tickets/ticket-replica.model';
import { Order } from './order.model';
import { CLAIM_GRACE_MS } from './ticket-claim';
import { TicketClaim } from './ticket-claim.model';

describe('POST /api/orders (real MongoDB-protocol server and nats-server)', () => {
  const clock = fakeClock();
  const h = useHarness({ clock, expirationSeconds: 900, listeners: true });

  const order = (ticketId: unknown, token = testToken()) => request(h.app).post('/api/orders').set(authHeader(token)).send({ ticketId });
  const ordersFor = (ticketId: string) => Order.find({ ticket: ticketId }).lean();
  const createdEvents = async (orderId: string) =>
    (await publishedOrderEvents(h.bus, orderId)).filter((e) => e.subject === Subjects.OrderCreated).map((e) => e.data);
  const createdEventsForTicket = async (ticketId: string) =>
    (await readStream<OrderEventData>(h.bus, { subject: Subjects.OrderCreated }))
      .map((m) => m.data)
      .filter((e) => e.ticket.id === ticketId);

  it('when a signed-in user orders a free ticket, then 201 with the order, it is stored, and order:created is published', async () => {
    const ticket = await givenTicket({ title: 'opera', price: 45 });
    const token = testToken({ id: 'buyer-1' });

    const res = await order(ticket.id, token).expect(201);

    const expiresAt = new Date(clock().getTime() + 900_000).toISOString();
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      status: 'created',
      expiresAt,
      userId: 'buyer-1',
      version: 0,
      ticket: { id: ticket.id, title: 'opera', price: 45 },
    });
    const stored = await Order.findById(res.body.id).lean();
    expect(stored).toMatchObject({ userId: 'buyer-1', status: OrderStatus.Created, version: 0, expiresAt: new Date(expiresAt) });
    expect(String(stored!.ticket)).toBe(ticket.id);
    const events = await waitFor(async () => {
      const all = await createdEvents(res.body.id);
      return all.length ? all : null;
    });
    expect(events).toEqual([
      { id: res.body.id, version: 0, status: 'created', userId: 'buyer-1', expiresAt, ticket: { id: ticket.id, price: 45 } },
    ]);
    await waitFor(async () => (await Order.findById(res.body.id).lean())!.outbox.length === 0, { what: 'the outbox to be emptied' });
  });

  it('when the request is not signed in, then 401 and nothing is stored', async () => {
    const ticket = await givenTicket();
    const res = await request(h.app).post('/api/orders').send({ ticketId: ticket.id }).expect(401);
    expect(res.body).toEqual({ code: 'unauthorized', errors: [{ message: 'Not signed in' }] });
    expect(await ordersFor(ticket.id)).toHaveLength(0);
  });

  it.each([
    ['missing', undefined],
    ['not hex', 'not-an-id'],
    ['too short', 'abc123'],
    ['a number', 12345],
    ['an array of a valid id', [new Types.ObjectId().toHexString()]],
    ['a query operator', { $ne: null }],
    ['a nested operator', { $gt: '' }],
  ])('when ticketId is %s, then 400 naming the field and nothing is stored', async (_what, ticketId) => {
    const before = await Order.countDocuments();
    const res = await order(ticketId).expect(400);
    expect(res.body.errors).toEqual([{ field: 'ticketId', message: expect.stringMatching(/ticketId must be a ticket id/) }]);
    expect(await Order.countDocuments()).toBe(before);
  });

  it('when the body is not JSON, then 400 and not 500', async () => {
    const res = await request(h.app)
      .post('/api/orders')
      .set(authHeader(testToken()))
      .set('Content-Type', 'application/json')
      .send('{"ticketId": ')
      .expect(400);
    expect(res.body.errors).toEqual([{ message: 'Malformed JSON body' }]);
  });

  it('when orders has never seen the ticket, then 404 and nothing is stored', async () => {
    const unknown = newId();
    const res = await order(unknown).expect(404);
    expect(res.body.errors).toEqual([{ message: 'Ticket not found' }]);
    expect(await ordersFor(unknown)).toHaveLength(0);
    expect(await TicketClaim.countDocuments({ ticket: unknown })).toBe(0);
  });

  it.each([OrderStatus.Created, OrderStatus.AwaitingPayment, OrderStatus.Complete])(
    'when the ticket is held by a %s order, then 409 with a clear message and no new order or event',
    async (status) => {
      const ticket = await givenTicket();
      const first = await order(ticket.id).expect(201);
      await Order.updateOne({ _id: first.body.id }, { $set: { status } });

      const res = await order(ticket.id).expect(409);

      expect(res.body.errors).toEqual([{ message: 'This ticket is already reserved by another order' }]);
      expect(await ordersFor(ticket.id)).toHaveLength(1);
      await publishedOrderEvents(h.bus, first.body.id); // the only order's events are all out
      expect((await createdEventsForTicket(ticket.id)).map((e) => e.id)).toEqual([first.body.id]);
    },
  );

  it('when the order holding the ticket was cancelled, then the ticket can be ordered again', async () => {
    const ticket = await givenTicket();
    const first = await order(ticket.id).expect(201);
    await Order.updateOne({ _id: first.body.id }, { $set: { status: OrderStatus.Cancelled } });

    const second = await order(ticket.id).expect(201);

    expect(second.body.id).not.toBe(first.body.id);
    expect((await ordersFor(ticket.id)).map((o) => o.status).sort()).toEqual(['cancelled', 'created']);
  });

  it('when the tickets service updates a reserved ticket, then the replica follows and the ticket stays reserved', async () => {
    const source = buildTicketEvent({ price: 10 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, source);
    await waitFor(() => Ticket.findById(source.id).lean());
    const first = await order(source.id).expect(201);

    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...source, version: 1, price: 12, orderId: first.body.id });
    await waitFor(async () => (await Ticket.findById(source.id).lean())?.version === 1);

    await order(source.id).expect(409);
  });

  it('when a claim was left by a request that died before storing its order, then the ticket is held for the grace period only', async () => {
    const ticket = await givenTicket();
    await TicketClaim.create({ _id: `${ticket.id}:0`, ticket: ticket.id, n: 0, order: new Types.ObjectId(), at: clock() });

    await order(ticket.id).expect(409);
    clock.advance(CLAIM_GRACE_MS + 1);
    const res = await order(ticket.id).expect(201);

    expect(await ordersFor(ticket.id)).toEqual([expect.objectContaining({ _id: new Types.ObjectId(res.body.id as string) })]);
  });

  describe('when 50 requests for one ticket arrive at once over real HTTP', () => {
    let server: Server;
    let client: RaceClient;
    beforeAll(async () => {
      server = h.app.listen(0);
      client = new RaceClient(server, 50);
      await client.warm(50);
    });
    afterAll(async () => {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('then exactly one gets 201, the others 409, and one order and one order:created exist', async () => {
      const ticket = await givenTicket({ price: 99 });
      const users = Array.from({ length: 50 }, (_, i) => testToken({ id: `racer-${i}` }));

      const responses = await Promise.all(
        users.map((token) => client.send('POST', '/api/orders', { ticketId: ticket.id }, authHeader(token))),
      );

      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      const winner = responses.find((r) => r.status === 201)!.body;
      const stored = await ordersFor(ticket.id);
      expect(stored.map((o) => String(o._id))).toEqual([winner.id]);
      await publishedOrderEvents(h.bus, winner.id); // the only order's events are all out
      expect((await createdEventsForTicket(ticket.id)).map((e) => e.id)).toEqual([winner.id]);
    });
  });
});
