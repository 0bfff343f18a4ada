import { NotFoundError, isObjectIdString } from '@ticketing/common';
import { Ticket, type TicketReplica } from '../tickets/ticket-replica.model';
import { Order, type OrderDocument } from './order.model';

/**
 * The order named by `:id` with its ticket, if the caller owns it. A malformed id is simply an
 * order that does not exist, and so is someone else's order: 404 either way, so that order ids
 * cannot be probed for existence.
 */
export async function findOwnOrder(id: unknown, userId: string): Promise<{ order: OrderDocument; ticket: TicketReplica }> {
  if (!isObjectIdString(id)) throw new NotFoundError('Order not found');
  const order = await Order.findById(id);
  if (!order || order.userId !== userId) throw new NotFoundError('Order not found');
  const ticket = await Ticket.findById(order.ticket).lean();
  // Replicas are never deleted, so an order's ticket is always there.
  if (!ticket) throw new Error(`order ${order.id}: ticket replica ${String(order.ticket)} is missing`);
  return { order, ticket };
}
