import mongoose, { Schema, Types, type HydratedDocument, type Model } from 'mongoose';
import { outboxField, type OutboxEntry } from '@ticketing/common';

export interface TicketAttrs {
  /** Only for replicas and tests; a new ticket gets a fresh ObjectId. */
  id?: string;
  title: string;
  price: number;
  userId: string;
}

export interface TicketFields {
  title: string;
  price: number;
  userId: string;
  /** Set while an order holds the ticket; a reserved ticket cannot be edited. */
  orderId?: string;
  version: number;
  outbox: OutboxEntry[];
}

export type TicketDoc = HydratedDocument<TicketFields>;

/** A ticket as read with `lean()`: the stored fields, nothing hydrated. */
export type TicketRecord = TicketFields & { _id: Types.ObjectId };

export interface TicketModel extends Model<TicketFields> {
  build(attrs: TicketAttrs): TicketDoc;
}

const ticketSchema = new Schema<TicketFields, TicketModel>(
  {
    title: { type: String, required: true },
    price: { type: Number, required: true, min: 0 },
    userId: { type: String, required: true },
    orderId: { type: String },
    ...outboxField,
  },
  {
    // Every save bumps `version` and only succeeds if the stored version is still the one loaded:
    // events carry this number, and a concurrent writer gets a VersionError instead of silently
    // overwriting (see README for why this replaces mongoose-update-if-current).
    versionKey: 'version',
    optimisticConcurrency: true,
  },
);

// The public listing: free tickets (no orderId), newest first, paged by _id.
ticketSchema.index({ orderId: 1, _id: -1 });

ticketSchema.static('build', function build(this: TicketModel, { id, ...attrs }: TicketAttrs): TicketDoc {
  return new this({ ...attrs, ...(id ? { _id: new Types.ObjectId(id) } : {}) });
});

export const Ticket = mongoose.model<TicketFields, TicketModel>('Ticket', ticketSchema);
