import { Schema, model, type Types } from 'mongoose';

/**
 * The orders service's replica of a ticket, built only from ticket events. `_id` and `version`
 * are the tickets service's own: the version is copied from each event by the listeners, never
 * incremented here (`versionKey: false`), so it always equals the source's. Only the listeners
 * write it; reservations live apart (ticket-claim.model.ts), so ordering a ticket and replicating
 * it never write the same document.
 */
export interface TicketReplica {
  _id: Types.ObjectId;
  title: string;
  price: number;
  version: number;
  /** When this service applied the version it holds: replication lag is measured against it. */
  replicatedAt?: Date;
}

const ticketSchema = new Schema<TicketReplica>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true },
    price: { type: Number, required: true, min: 0 },
    version: { type: Number, required: true, min: 0 },
    replicatedAt: { type: Date },
  },
  { versionKey: false },
);

export const Ticket = model<TicketReplica>('Ticket', ticketSchema);

export interface ReplicaView {
  id: string;
  title: string;
  price: number;
  version: number;
  replicatedAt?: string;
}

/**
 * What `GET /api/orders/tickets/:id` shows: the replicated fields with the source's id, and when
 * this version was applied here.
 */
export function replicaView(ticket: Pick<TicketReplica, '_id' | 'title' | 'price' | 'version' | 'replicatedAt'>): ReplicaView {
  return {
    id: String(ticket._id),
    title: ticket.title,
    price: ticket.price,
    version: ticket.version,
    ...(ticket.replicatedAt ? { replicatedAt: ticket.replicatedAt.toISOString() } : {}),
  };
}
