import { OrderStatus, Subjects, recordEvent, type Logger, type OrderUpdatedEvent, type OutboxRelay } from '@ticketing/common';
import type { TicketReplica } from '../tickets/ticket.model';
import { orderEventData } from './order-event';
import type { OrderDocument } from './order.model';
import { releaseTicket } from './ticket-claim';

/** Statuses from which an order can still be cancelled (by its user, or by expiry). */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment];

/**
 * Cancels an order: status, version and its order:updated event in one optimistic save, so a
 * concurrent cancel or expiry makes this save fail with a VersionError instead of cancelling (and
 * publishing) twice. Then the ticket is freed for the next order.
 */
export async function cancelOrder(
  order: OrderDocument,
  ticket: Pick<TicketReplica, '_id' | 'price'>,
  deps: { relay: OutboxRelay; logger: Logger },
): Promise<void> {
  order.status = OrderStatus.Cancelled;
  recordEvent<OrderUpdatedEvent>(order, Subjects.OrderUpdated, (version) =>
    orderEventData(order, { id: String(ticket._id), price: ticket.price }, version),
  );
  await order.save();
  void deps.relay.dispatch(order);
  try {
    await releaseTicket(order.ticket, order._id);
  } catch (err) {
    // The cancel itself is stored; a claim held by a cancelled order is recovered by the next
    // order for this ticket (ticket-claim.ts), so this is not worth failing the request.
    deps.logger.warn('orders: could not release ticket claim', { err, orderId: order.id, ticketId: String(order.ticket) });
  }
}
