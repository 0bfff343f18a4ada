import { ACTIVE_ORDER_STATUSES, ConflictError, NotFoundError } from '@ticketing/common';
import type { Types } from 'mongoose';
import { Ticket, type TicketReplica } from '../tickets/ticket-replica.model';
import { Order } from './order.model';
import { TicketClaim, claimKey, type TicketClaimFields } from './ticket-claim.model';

/**
 * A claim is inserted just before its order. If the order is missing, it is either being inserted
 * right now (keep out) or its insert failed / its process died (take over): after this long it
 * can only be the latter.
 */
export const CLAIM_GRACE_MS = 30_000;

/** MongoDB's duplicate-key error: another request inserted this claim first. */
const DUPLICATE_KEY = 11000;

export const ALREADY_RESERVED = 'This ticket is already reserved by another order';

/**
 * Reserves a ticket for an order: 404 if orders has no replica of it, 409 if an active order holds
 * it or another request claims it at the same moment. Returns the replica (its price goes into the
 * order:created event).
 */
export async function claimTicket(ticketId: string, orderId: Types.ObjectId, now: Date): Promise<TicketReplica> {
  const ticket = await Ticket.findById(ticketId).lean();
  if (!ticket) throw new NotFoundError('Ticket not found');
  const latest = await TicketClaim.findOne({ ticket: ticketId }).sort({ n: -1 }).lean();
  if (latest && (await isActive(latest, now))) throw new ConflictError(ALREADY_RESERVED);
  const n = latest ? latest.n + 1 : 0;
  try {
    await TicketClaim.create({ _id: claimKey(ticketId, n), ticket: ticketId, n, order: orderId, at: now });
  } catch (err) {
    if ((err as { code?: unknown }).code === DUPLICATE_KEY) throw new ConflictError(ALREADY_RESERVED);
    throw err;
  }
  return ticket;
}

/** Withdraws a claim whose order could not be stored, so the ticket is free again at once. */
export async function withdrawClaim(ticketId: Types.ObjectId | string, orderId: Types.ObjectId): Promise<void> {
  await TicketClaim.deleteOne({ ticket: ticketId, order: orderId });
}

async function isActive(claim: TicketClaimFields, now: Date): Promise<boolean> {
  const holder = await Order.findById(claim.order, { status: 1 }).lean();
  if (holder) return ACTIVE_ORDER_STATUSES.includes(holder.status);
  return now.getTime() - claim.at.getTime() <= CLAIM_GRACE_MS;
}
