import { OrderStatus, Subjects, type OutboxRelay } from '@ticketing/common';
import type { TicketReplica } from '../tickets/ticket-replica.model';
import { recordOrderEvent } from './order-events';
import type { OrderDocument } from './order.model';

/** Statuses from which an order can still be cancelled (by its user, or by expiry). */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment];

/**
 * Cancels an order: status, version and its order:updated event in one optimistic save, so a
 * concurrent cancel or expiry (another request, another copy) fails with a VersionError instead
 * of cancelling and publishing twice. The ticket is free as soon as the save lands: its claim is
 * active only while its order is (ticket-claim.ts).
 */
export async function cancelOrder(order: OrderDocument, ticket: Pick<TicketReplica, '_id' | 'price'>, relay: OutboxRelay): Promise<void> {
  order.status = OrderStatus.Cancelled;
  recordOrderEvent(order, Subjects.OrderUpdated, { id: String(ticket._id), price: ticket.price });
  await relay.saveAndDispatch(order);
}
