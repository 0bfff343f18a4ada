import request from 'supertest';
import { OrderStatus, Subjects, type TicketEventData } from '@ticketing/common';
import { authHeader, readStream, testToken, waitFor } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { buildOrderEvent, ticketBody } from '../test-kit/builders';
import { publishedTicketEvents, publishOrderEvent } from '../test-kit/events';
import { afterHandled } from '@ticketing/common/testing';
import { Ticket } from './ticket.model';

describe('no lost events: the outbox (real nats-server and MongoDB-protocol server)', () => {
  const t = useHarness();

  it('when the bus is down during a create and an edit, then both succeed and their events are published in order once it is back', async () => {
    const token = testToken({ id: 'seller-1' });
    await t.nats.stop();
    let id: string;
    try {
      const created = await request(t.app)
        .post('/api/tickets')
        .set(authHeader(token))
        .send(ticketBody({ price: 10 }));
      expect(created.status).toBe(201);
      id = created.body.id;
      const edited = await request(t.app)
        .put(`/api/tickets/${id}`)
        .set(authHeader(token))
        .send(ticketBody({ price: 11 }));
      expect(edited.status).toBe(200);
      // the relay tried and failed: nothing could be published, both events wait in the ticket itself
      await waitFor(() => t.relay.publishFailures > 0, { what: 'the relay to try publishing while NATS is down' });
      const pending = await Ticket.findById(id, { outbox: 1 }).lean().orFail();
      expect(pending.outbox.map((e) => e.msgId)).toEqual([`ticket:created:${id}:0`, `ticket:updated:${id}:1`]);
    } finally {
      await t.nats.start();
    }

    const events = await publishedTicketEvents(t.bus, id);
    expect(events.map((e) => [e.subject, e.data.version, e.data.price])).toEqual([
      [Subjects.TicketCreated, 0, 10],
      [Subjects.TicketUpdated, 1, 11],
    ]);
  }, 30_000);
});

/** The message ids of the events a ticket still holds. */
async function pendingIds(id: string): Promise<string[]> {
  return (await Ticket.findById(id, { outbox: 1 }).lean().orFail()).outbox.map((e) => e.msgId);
}

describe('published events leave the record with its next edit (real servers)', () => {
  // The batched clean-up is put off for a minute, so only the edit's own write can remove them.
  const t = useHarness({ relay: { cleanupDelayMs: 60_000 } });

  it('when a ticket is edited after its events were published, then the edit stores only its own event, and all are published in order', async () => {
    const token = testToken({ id: 'seller-2' });
    const created = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(token))
      .send(ticketBody({ price: 5 }));
    expect(created.status).toBe(201);
    const id: string = created.body.id;

    for (const [version, price] of [
      [1, 10],
      [2, 15],
    ]) {
      await waitFor(() => t.relay.published === version, { what: 'the previous event published' });
      expect(await pendingIds(id)).toEqual([expect.stringContaining(`:${version - 1}`)]); // published, not yet removed
      const edited = await request(t.app).put(`/api/tickets/${id}`).set(authHeader(token)).send(ticketBody({ price }));
      expect(edited.status).toBe(200);
      expect(await pendingIds(id)).toEqual([`ticket:updated:${id}:${version}`]);
    }

    await waitFor(() => t.relay.published === 3, { what: 'the last edit published' });
    const events = (await readStream<TicketEventData>(t.bus)).filter((m) => m.data.id === id);
    expect(events.map((e) => [e.subject, e.data.version, e.data.price])).toEqual([
      [Subjects.TicketCreated, 0, 5],
      [Subjects.TicketUpdated, 1, 10],
      [Subjects.TicketUpdated, 2, 15],
    ]);
  }, 30_000);
});

describe('published events leave the record with a reservation too (real servers)', () => {
  const t = useHarness({ listeners: true, relay: { cleanupDelayMs: 60_000 } });

  it('when a ticket is reserved and freed after its events were published, then each of those writes stores only its own event', async () => {
    const token = testToken({ id: 'seller-3' });
    const created = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(token))
      .send(ticketBody({ price: 5 }));
    const id: string = created.body.id;
    const order = buildOrderEvent({ ticket: { id, price: 5 } });

    await waitFor(() => t.relay.published === 1, { what: 'ticket:created published' });
    await afterHandled(t.listeners.orderCreated, () => publishOrderEvent(t.bus, Subjects.OrderCreated, order));
    expect(await pendingIds(id)).toEqual([`ticket:updated:${id}:1`]);

    await waitFor(() => t.relay.published === 2, { what: 'the reservation published' });
    const cancelled = { ...order, version: 1, status: OrderStatus.Cancelled };
    await afterHandled(t.listeners.orderUpdated, () => publishOrderEvent(t.bus, Subjects.OrderUpdated, cancelled));
    expect(await pendingIds(id)).toEqual([`ticket:updated:${id}:2`]);

    await waitFor(() => t.relay.published === 3, { what: 'the release published' });
    const events = (await readStream<TicketEventData>(t.bus)).filter((m) => m.subject.startsWith('ticket:') && m.data.id === id);
    expect(events.map((e) => [e.subject, e.data.version, e.data.orderId])).toEqual([
      [Subjects.TicketCreated, 0, undefined],
      [Subjects.TicketUpdated, 1, order.id],
      [Subjects.TicketUpdated, 2, undefined],
    ]);
  }, 30_000);
});
