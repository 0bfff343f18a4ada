import {
  ACTIVE_ORDER_STATUSES,
  NotYetError,
  Subjects,
  type HandlerOutcome,
  type MessageContext,
  type OrderCreatedEvent,
  type OrderEventData,
} from '@ticketing/common';
import { Ticket } from '../tickets/ticket.model';
import { reserveTicket } from '../tickets/reservation';
import { OrderEventListener } from './order-event.listener';
import { OrderRef } from './order-replica.model';

/**
 * An order was placed: its ticket is now reserved for it. Two durable writes, each safe to repeat:
 * (1) the ticket with `orderId` and its `ticket:updated` (one save), then (2) the order's record.
 * A crash between them is repaired on redelivery: the ticket already names this order, so it is
 * not bumped again, and only the record is written. The event is acked after both.
 */
export class OrderCreatedListener extends OrderEventListener<OrderCreatedEvent> {
  readonly subject = Subjects.OrderCreated;

  protected async onMessage(order: OrderEventData, { logger }: MessageContext): Promise<HandlerOutcome> {
    if (await OrderRef.exists({ _id: order.id })) {
      logger.debug('order:created already applied');
      return 'duplicate';
    }
    if (ACTIVE_ORDER_STATUSES.includes(order.status)) await this.reserve(order);
    await recordOrder(order);
  }

  private async reserve(order: OrderEventData): Promise<void> {
    const ticket = await Ticket.findById(order.ticket.id);
    if (!ticket) throw new NotYetError(`ticket ${order.ticket.id} not found yet`);
    if (ticket.orderId === order.id) return; // reserved before a crash or a concurrent delivery
    // Another order's cancellation travels on order:updated and may simply not be applied yet.
    if (ticket.orderId) throw new NotYetError(`ticket ${ticket.id} is still held by order ${ticket.orderId}`);
    reserveTicket(ticket, order.id);
    await this.relay.saveAndDispatch(ticket); // a VersionError (concurrent edit) throws: the event is retried
  }
}

/**
 * Keyed by the order id, so recording it twice is harmless. Two deliveries racing here may see the
 * loser's upsert fail on the unique `_id`: the order is recorded all the same.
 */
async function recordOrder(order: OrderEventData): Promise<void> {
  try {
    await OrderRef.updateOne(
      { _id: order.id },
      { $setOnInsert: { ticketId: order.ticket.id, version: order.version, status: order.status } },
      { upsert: true },
    );
  } catch (err) {
    if ((err as { code?: unknown }).code !== 11000) throw err;
  }
}
