import { ConflictError, OrderStatus, Subjects, recordEvent, type OrderUpdatedEvent, type OutboxRelay } from '@ticketing/common';
import { randomUUID } from 'node:crypto';
import { giveBackChangeToken, takeChangeToken } from '../change-token';
import type { TicketReplica } from '../tickets/ticket.model';
import { orderEventData } from './order-event';
import type { OrderDocument } from './order.model';

/** Statuses from which an order can still be cancelled (by its user, or by expiry). */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment];

/** Another request or copy changed the order first (it is theirs to publish). */
export class OrderChangedError extends ConflictError {
  constructor() {
    super('The order was changed at the same time; reload it');
  }
}

/**
 * Cancels an order: status, version and its order:updated event in one save. The change token for
 * the next version makes a concurrent cancel or expiry (another request, another copy) lose with
 * {@link OrderChangedError} instead of cancelling and publishing twice. The ticket is free as soon
 * as the save lands: its claim is active only while its order is.
 */
export async function cancelOrder(order: OrderDocument, ticket: Pick<TicketReplica, '_id' | 'price'>, deps: { relay: OutboxRelay; now: Date }): Promise<void> {
  // Let this copy's relay finish removing the order's earlier events first: on the MongoDB-
  // compatible server a removal still in flight could rewrite the document over this change.
  await deps.relay.dispatch({ id: order.id, outbox: [] });

  const token = `order:${order.id}:${order.version + 1}`;
  const owner = randomUUID();
  if (!(await takeChangeToken(token, owner, deps.now))) throw new OrderChangedError();
  order.status = OrderStatus.Cancelled;
  recordEvent<OrderUpdatedEvent>(order, Subjects.OrderUpdated, (version) =>
    orderEventData(order, { id: String(ticket._id), price: ticket.price }, version),
  );
  try {
    await order.save();
  } catch (err) {
    await giveBackChangeToken(token, owner).catch(() => undefined);
    throw err;
  }
  void deps.relay.dispatch(order);
}
