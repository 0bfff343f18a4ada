import { Schema, model, type Types } from 'mongoose';

/**
 * The orders service's replica of a ticket, built only from ticket events. `_id` and `version`
 * are the tickets service's own: the version is written by the listeners' atomic updates, never
 * incremented here (`versionKey: false`), so it always equals the source's.
 */
export interface TicketReplica {
  _id: Types.ObjectId;
  title: string;
  price: number;
  version: number;
  /**
   * The order holding this ticket, claimed with a conditional update (see ticket-claim.ts): the
   * one document both racing requests write to, which makes reservation race-free without
   * transactions. Ticket events never touch it.
   */
  reservedBy: Types.ObjectId | null;
  /** When the claim was made: a claim whose order never got stored is stale after a grace period. */
  reservedAt: Date | null;
}

const ticketSchema = new Schema<TicketReplica>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true },
    price: { type: Number, required: true, min: 0 },
    version: { type: Number, required: true, min: 0 },
    reservedBy: { type: Schema.Types.ObjectId, default: null },
    reservedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

export const Ticket = model<TicketReplica>('Ticket', ticketSchema);

export interface ReplicaView {
  id: string;
  title: string;
  price: number;
  version: number;
}

/** What `GET /api/orders/tickets/:id` shows: the replicated fields only, with the source's id. */
export function replicaView(ticket: Pick<TicketReplica, '_id' | 'title' | 'price' | 'version'>): ReplicaView {
  return { id: String(ticket._id), title: ticket.title, price: ticket.price, version: ticket.version };
}
