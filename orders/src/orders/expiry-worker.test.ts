import { OrderStatus, OutboxRelay, Subjects } from '@ticketing/common';
import { authHeader, testToken, waitFor } from '@ticketing/common/testing';
import mongoose from 'mongoose';
import request from 'supertest';
import { fakeClock, givenTicket } from '../test-kit/builders';
import { publishedOrderEvents } from '../test-kit/events';
import { startHarness, type Harness } from '../test-kit/harness';
import { ExpiryWorker } from './expiry-worker';
import { Order } from './order.model';

const WINDOW_SECONDS = 900;

describe('order expiry (real MongoDB-protocol server and nats-server)', () => {
  const clock = fakeClock();
  let h: Harness;
  const workers: ExpiryWorker[] = [];

  beforeAll(async () => {
    h = await startHarness({ clock, expirationSeconds: WINDOW_SECONDS });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  afterAll(async () => {
    await h.close();
  });

  const worker = (relay = h.relay) => {
    const w = new ExpiryWorker({ relay, intervalMs: 50, clock });
    workers.push(w);
    return w;
  };
  const placeOrder = async (price = 20) => {
    const ticket = await givenTicket({ price });
    const res = await request(h.app)
      .post('/api/orders')
      .set(authHeader(testToken({ id: 'buyer' })))
      .send({ ticketId: ticket.id })
      .expect(201);
    return res.body as { id: string; expiresAt: string; ticket: { id: string } };
  };
  const settledUpdatedEvents = async (id: string) =>
    (await publishedOrderEvents(h.bus, id)).filter((e) => e.subject === Subjects.OrderUpdated).map((e) => e.data);

  it('when an order is still created after its window, then it is cancelled, order:updated is published once, and the ticket is free', async () => {
    const placed = await placeOrder(42);
    clock.advance(WINDOW_SECONDS * 1000);

    expect(await worker().runOnce()).toBe(1);

    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: OrderStatus.Cancelled, version: 1 });
    expect(await settledUpdatedEvents(placed.id)).toEqual([
      {
        id: placed.id,
        version: 1,
        status: 'cancelled',
        userId: 'buyer',
        expiresAt: placed.expiresAt,
        ticket: { id: placed.ticket.id, price: 42 },
      },
    ]);
    await request(h.app).post('/api/orders').set(authHeader(testToken())).send({ ticketId: placed.ticket.id }).expect(201);
  });

  it('when the window has not passed yet, then the order is left alone', async () => {
    const placed = await placeOrder();
    clock.advance(WINDOW_SECONDS * 1000 - 1);

    expect(await worker().runOnce()).toBe(0);

    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'created', version: 0 });
    clock.advance(1); // leave no order due for the tests after this one
    await worker().runOnce();
  });

  it('when an order was cancelled or is awaiting payment, then expiry does not touch it', async () => {
    const cancelled = await placeOrder();
    await request(h.app)
      .delete(`/api/orders/${cancelled.id}`)
      .set(authHeader(testToken({ id: 'buyer' })))
      .expect(200);
    const paying = await placeOrder();
    await Order.updateOne({ _id: paying.id }, { $set: { status: OrderStatus.AwaitingPayment } });
    clock.advance(WINDOW_SECONDS * 1000);

    expect(await worker().runOnce()).toBe(0);

    expect(await Order.findById(cancelled.id).lean()).toMatchObject({ status: 'cancelled', version: 1 });
    expect(await Order.findById(paying.id).lean()).toMatchObject({ status: 'awaiting:payment', version: 0 });
    expect(await settledUpdatedEvents(cancelled.id)).toHaveLength(1);
  });

  it('when three copies run expiry at the same moment, then each order is cancelled once and published once', async () => {
    const placed = await Promise.all(Array.from({ length: 15 }, () => placeOrder()));
    clock.advance(WINDOW_SECONDS * 1000);
    const otherCopies = [new OutboxRelay(Order, h.bus), new OutboxRelay(Order, h.bus)];

    const counts = await Promise.all([worker().runOnce(), ...otherCopies.map((relay) => worker(relay).runOnce())]);

    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(15);
    for (const { id } of placed) {
      expect(await Order.findById(id).lean()).toMatchObject({ status: 'cancelled', version: 1 });
      expect(await settledUpdatedEvents(id)).toHaveLength(1);
    }
    await Promise.all(otherCopies.map((relay) => relay.stop()));
  });

  it('when the process restarts before the deadline, then the new process still expires the order and publishes it', async () => {
    const placed = await placeOrder();
    const before = worker();
    const passes = jest.spyOn(before, 'runOnce');
    before.start();
    // A pass starts only once the one before has finished: two started means one done, and stop
    // waits for the second.
    await waitFor(() => passes.mock.calls.length >= 2, { what: 'two passes of the worker' });
    await before.stop();
    expect(await Promise.all(passes.mock.results.map((r) => r.value as Promise<number>))).toEqual(passes.mock.results.map(() => 0));
    expect(await Order.findById(placed.id).lean()).toMatchObject({ status: 'created' });

    // "Restart": everything in memory is gone; only the database and the stream remain.
    await h.relay.stop();
    await mongoose.disconnect();
    await mongoose.connect(h.mongoUrl);
    const relay = new OutboxRelay(Order, h.bus);
    clock.advance(WINDOW_SECONDS * 1000);
    worker(relay).start();

    await waitFor(async () => (await Order.findById(placed.id).lean())?.status === 'cancelled', { what: 'expiry after restart' });
    expect(await settledUpdatedEvents(placed.id)).toEqual([expect.objectContaining({ id: placed.id, version: 1, status: 'cancelled' })]);
    await relay.stop();
  });
});
