import mongoose from 'mongoose';
import {
  ACTIVE_ORDER_STATUSES,
  outboxEntry,
  Subjects,
  type OrderStatus,
  type TicketEventData,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { deleteConsumers, writeAllOverOlder, type RebuildOptions } from './rebuild-replica';

/** tickets' queue group (tickets/src/queue-group.ts), which names its durable consumers. */
const TICKETS_GROUP = 'tickets-service';
const ORDER_SUBJECTS = [Subjects.OrderCreated, Subjects.OrderUpdated];

export interface OrderReferencesResult {
  /** tickets' durable consumers that were deleted (they start afresh from the stream's first event). */
  consumersDeleted: string[];
  /** Orders in the owner's database. */
  orders: number;
  /** Order references written (missing, or older than the order's version). */
  written: number;
  /** Tickets whose holder was set or cleared to match orders, each with its `ticket:updated`. */
  reservationsChanged: number;
  /** Tickets that more than one active order names: left as they are, for a person to look at. */
  heldTwice: string[];
}

interface StoredOrder {
  _id: unknown;
  ticket: unknown;
  status: OrderStatus;
  version: number;
}

interface StoredTicket {
  _id: mongoose.Types.ObjectId;
  title: string;
  price: number;
  userId: string;
  orderId?: string | null;
  version: number;
}

/**
 * Rebuilds what tickets knows of orders from a snapshot of orders' database (docs/kubernetes.md,
 * "Stream limits"), for tickets' consumer of order events that fell further behind than the stream
 * keeps. Run it while tickets is stopped:
 * 1. delete tickets' durable consumers of order events, so that they start again at the stream's
 *    first event;
 * 2. write every order's reference (its ticket, version and status) over an older one;
 * 3. make each ticket held by the active order that names it, or by none: a ticket that changes
 *    gets the next version and its `ticket:updated` in its outbox, in one versioned write, as an
 *    edit does; tickets publishes it when it starts (its first sweep).
 * When tickets starts, it replays what the stream still holds on top: the versions make the events
 * already in the snapshot duplicates and apply the newer ones (a later cancellation frees its
 * ticket). Running it twice changes nothing the second time.
 */
export async function rebuildOrderReferences(options: RebuildOptions): Promise<OrderReferencesResult> {
  const consumersDeleted = await deleteConsumers(options, TICKETS_GROUP, ORDER_SUBJECTS);
  const owner = await mongoose.createConnection(options.ordersMongoUrl).asPromise();
  const replica = await mongoose.createConnection(options.ticketsMongoUrl).asPromise();
  try {
    /** Ticket id → the active orders that name it (one, unless something is badly wrong). */
    const holders = new Map<string, string[]>();
    const references = async function* () {
      const projection = { ticket: 1, status: 1, version: 1 };
      for await (const order of owner.collection<StoredOrder>('orders').find({}, { projection })) {
        const [id, ticketId] = [String(order._id), String(order.ticket)];
        if (ACTIVE_ORDER_STATUSES.includes(order.status)) holders.set(ticketId, [...(holders.get(ticketId) ?? []), id]);
        yield { _id: id, version: order.version, set: { ticketId, status: order.status } };
      }
    };
    const { read: orders, written } = await writeAllOverOlder(replica.collection('order_refs'), references());

    const heldTwice = [...holders].filter(([, ids]) => ids.length > 1).map(([ticketId]) => ticketId);
    let reservationsChanged = 0;
    const tickets = replica.collection<StoredTicket>('tickets');
    for await (const ticket of tickets.find({}, { projection: { outbox: 0 } })) {
      const id = String(ticket._id);
      const named = holders.get(id) ?? [];
      const holder = named.length === 1 ? named[0] : undefined;
      if (named.length > 1 || (ticket.orderId ?? undefined) === holder) continue;
      const version = ticket.version + 1;
      const { title, price, userId } = ticket;
      const data: TicketEventData = { id, version, title, price, userId, ...(holder && { orderId: holder }) };
      const event = outboxEntry<TicketUpdatedEvent>(Subjects.TicketUpdated, data);
      const { matchedCount } = await tickets.updateOne(
        { _id: ticket._id, version: ticket.version },
        {
          ...(holder ? { $set: { orderId: holder, version } } : { $set: { version }, $unset: { orderId: '' } }),
          $push: { outbox: event },
        },
      );
      if (matchedCount !== 1) throw new Error(`ticket ${id} changed during the rebuild: stop tickets, then run this again`);
      reservationsChanged++;
    }
    return { consumersDeleted, orders, written, reservationsChanged, heldTwice };
  } finally {
    await owner.close();
    await replica.close();
  }
}
