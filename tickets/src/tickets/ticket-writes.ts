import type { UpdateQuery } from 'mongoose';
import { OutboxRelay, type Bus, type OutboxRelayOptions } from '@ticketing/common';
import { KeyedLock } from '../keyed-lock';
import { Ticket, type TicketDoc, type TicketFields } from './ticket.model';

/**
 * Every write to one ticket document made by this process goes through here, one at a time.
 *
 * Why: on MongoDB a single-document update is atomic, so optimistic concurrency (`version` in the
 * filter) and the outbox's `$pop` are safe as they are. The MongoDB-compatible server used where
 * mongod is unavailable (FerretDB 1.24 on SQLite) applies an update as read document, change it,
 * write it back: two concurrent updates of one document both "match", and the later write
 * silently reverts the earlier one (an edit lost behind a 200, or the relay's `$pop` undoing a
 * save). Serialising our own writes per ticket makes them sequential, and then the version check
 * is exact again. Across several copies on FerretDB the gap remains (see README); on MongoDB
 * there is none. Only writes are serialised: reads stay concurrent, and the version check still
 * decides who wins (a stale copy gets a VersionError, answered 409).
 */
const ticketWrites = new KeyedLock();

export function saveTicket(ticket: TicketDoc): Promise<TicketDoc> {
  return ticketWrites.run(ticket.id, () => ticket.save());
}

/**
 * The outbox relay for tickets. Its only write is `updateOne({ _id, … }, { $pop })` after a
 * publication; it goes through the same per-ticket queue as the saves.
 */
export function createTicketRelay(bus: Bus, options?: OutboxRelayOptions): OutboxRelay {
  const serialized = new Proxy(Ticket, {
    get(target, property, receiver) {
      if (property !== 'updateOne') return Reflect.get(target, property, receiver);
      return (filter: { _id: unknown }, update: UpdateQuery<TicketFields>) =>
        ticketWrites.run(String(filter._id), () => target.updateOne(filter, update).exec());
    },
  });
  return new OutboxRelay(serialized, bus, options);
}
