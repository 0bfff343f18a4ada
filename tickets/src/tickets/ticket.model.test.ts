import { Error as MongooseError } from 'mongoose';
import { recordEvent, Subjects, type TicketUpdatedEvent } from '@ticketing/common';
import { useHarness } from '../test-kit/harness';
import { buildTicket } from '../test-kit/builders';
import { publishedTicketEvents } from '../test-kit/events';
import { Ticket } from './ticket.model';
import { toTicketEventData } from './ticket-events';
import { ticketView } from './ticket-view';

describe('Ticket model (real MongoDB-protocol server)', () => {
  const t = useHarness();

  it('when the same ticket is loaded twice and the first copy is saved, then saving the second copy rejects', async () => {
    const ticket = await buildTicket({ price: 5 });
    const first = await Ticket.findById(ticket.id).orFail();
    const second = await Ticket.findById(ticket.id).orFail();

    first.set({ price: 10 });
    await first.save();
    second.set({ price: 15 });

    await expect(second.save()).rejects.toBeInstanceOf(MongooseError.VersionError);
    const stored = await Ticket.findById(ticket.id).orFail();
    expect(stored.price).toBe(10);
    expect(stored.version).toBe(1);
  });

  it('when a ticket is saved three times, then its version goes 0, 1, 2 and its events carry the same numbers', async () => {
    const ticket = await buildTicket({ title: 'v0' }, t.relay);
    expect(ticket.version).toBe(0);
    for (const title of ['v1', 'v2']) {
      ticket.set({ title });
      recordEvent<TicketUpdatedEvent>(ticket, Subjects.TicketUpdated, (version) => toTicketEventData(ticket, version));
      await ticket.save();
      void t.relay.dispatch(ticket);
    }
    expect(ticket.version).toBe(2);
    expect((await Ticket.findById(ticket.id).orFail()).version).toBe(2);

    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.map((e) => [e.subject, e.data.version, e.data.title])).toEqual([
      [Subjects.TicketCreated, 0, 'v0'],
      [Subjects.TicketUpdated, 1, 'v1'],
      [Subjects.TicketUpdated, 2, 'v2'],
    ]);
    expect(events.map((e) => e.msgId)).toEqual([
      `ticket:created:${ticket.id}:0`,
      `ticket:updated:${ticket.id}:1`,
      `ticket:updated:${ticket.id}:2`,
    ]);
  });

  it('when a ticket is built with an id, then it is stored under that id, and its JSON shows id and version but no _id, __v or outbox', async () => {
    const id = '64b7f0a1c2d3e4f5a6b7c8d9';
    const ticket = await buildTicket({ id, title: 'Opera', price: 42.5, userId: 'u-1' });
    const stored = await Ticket.findById(id).orFail();

    expect(JSON.parse(JSON.stringify(ticketView(stored)))).toEqual({ id, title: 'Opera', price: 42.5, userId: 'u-1', version: 0 });
    expect(ticket.id).toBe(id);
  });
});
