import { ACTIVE_ORDER_STATUSES, ConflictError, NotFoundError } from '@ticketing/common';
import type { Types } from 'mongoose';
import { Ticket, type TicketReplica } from '../tickets/ticket.model';
import { Order } from './order.model';

/**
 * A claim is written just before its order is inserted. If the holder order is missing, it is
 * either being inserted right now (keep out) or its insert failed / its process died (take it
 * over): after this long it can only be the latter.
 */
export const CLAIM_GRACE_MS = 30_000;

export const ALREADY_RESERVED = 'This ticket is already reserved by another order';

/**
 * Reserves a ticket for an order with single-document conditional updates on the replica: of any
 * number of concurrent claims, exactly one matches `reservedBy: null` (or the stale holder).
 * Returns the replica as it was claimed, so the order carries the price it was reserved at.
 */
export async function claimTicket(ticketId: string, orderId: Types.ObjectId, now: Date): Promise<TicketReplica> {
  const claim = { $set: { reservedBy: orderId, reservedAt: now } };
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimed = await Ticket.findOneAndUpdate({ _id: ticketId, reservedBy: null }, claim, { new: true }).lean();
    if (claimed) return claimed;

    const current = await Ticket.findById(ticketId).lean();
    if (!current) throw new NotFoundError('Ticket not found');
    if (!current.reservedBy) continue; // released in between: claim again
    if (!(await isStale(current, now))) throw new ConflictError(ALREADY_RESERVED);

    // Conditional on the stale holder, so of several requests recovering it only one wins.
    const taken = await Ticket.findOneAndUpdate({ _id: ticketId, reservedBy: current.reservedBy }, claim, { new: true }).lean();
    if (taken) return taken;
  }
  throw new ConflictError(ALREADY_RESERVED);
}

/** Frees the ticket, but only if this order still holds it. */
export async function releaseTicket(ticketId: Types.ObjectId, orderId: Types.ObjectId): Promise<void> {
  await Ticket.updateOne({ _id: ticketId, reservedBy: orderId }, { $set: { reservedBy: null, reservedAt: null } });
}

async function isStale(ticket: TicketReplica, now: Date): Promise<boolean> {
  const holder = await Order.findById(ticket.reservedBy, { status: 1 }).lean();
  if (holder) return !ACTIVE_ORDER_STATUSES.includes(holder.status);
  const claimedAt = ticket.reservedAt?.getTime() ?? 0;
  return now.getTime() - claimedAt > CLAIM_GRACE_MS;
}
