import { Types } from 'mongoose';
import { WrittenTickets } from './written-tickets';
import type { TicketRecord } from './ticket.model';

const record = (version = 0): TicketRecord => ({
  _id: new Types.ObjectId(),
  title: 'Concert',
  price: 20,
  userId: 'owner-1',
  version,
  outbox: [],
});

describe('WrittenTickets', () => {
  it('when a ticket is written again, then the latest write is the one remembered', () => {
    const written = new WrittenTickets();
    const first = record(0);
    written.remember(first);
    written.remember({ ...first, version: 1 });
    expect(written.get(String(first._id))?.version).toBe(1);
    expect(written.size).toBe(1);
  });

  it('when full, then the least recently used ticket is forgotten first', () => {
    const written = new WrittenTickets(2);
    const [a, b, c] = [record(), record(), record()];
    written.remember(a);
    written.remember(b);
    written.get(String(a._id)); // a is now more recent than b
    written.remember(c);
    expect([a, b, c].map((t) => written.get(String(t._id)) !== undefined)).toEqual([true, false, true]);
    expect(written.size).toBe(2);
  });

  it('when forgotten, then nothing is remembered for that ticket', () => {
    const written = new WrittenTickets();
    const a = record();
    written.remember(a);
    written.forget(String(a._id));
    expect(written.get(String(a._id))).toBeUndefined();
  });
});
