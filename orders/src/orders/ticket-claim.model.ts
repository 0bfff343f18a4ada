import { Schema, model, type Types } from 'mongoose';

/**
 * The n-th reservation of a ticket. Claims are only ever inserted, keyed `<ticketId>:<n>`: of any
 * number of requests that saw claim n−1 inactive, exactly one inserts claim n (the unique `_id`
 * decides; no transaction). A claim is active while its order is, so cancelling or expiring an
 * order frees the ticket with no write here, and nothing can be left holding a cancelled order's
 * ticket.
 */
export interface TicketClaimFields {
  _id: string;
  ticket: Types.ObjectId;
  n: number;
  order: Types.ObjectId;
  /** When the claim was made: a claim whose order never got stored is stale after a grace period. */
  at: Date;
}

const ticketClaimSchema = new Schema<TicketClaimFields>(
  {
    _id: { type: String, required: true },
    ticket: { type: Schema.Types.ObjectId, required: true },
    n: { type: Number, required: true, min: 0 },
    order: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'ticket_claims' },
);
ticketClaimSchema.index({ ticket: 1, n: -1 });

export const TicketClaim = model<TicketClaimFields>('TicketClaim', ticketClaimSchema);

export const claimKey = (ticketId: string, n: number) => `${ticketId}:${n}`;
