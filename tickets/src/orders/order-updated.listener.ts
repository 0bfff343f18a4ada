import {
  ACTIVE_ORDER_STATUSES,
  NotYetError,
  Subjects,
  type HandlerOutcome,
  type MessageContext,
  type OrderEventData,
  type OrderUpdatedEvent,
} from '@ticketing/common';
import { Ticket } from '../tickets/ticket.model';
import { releaseTicket } from '../tickets/reservation';
import { OrderEventListener } from './order-event.listener';
import { OrderRef } from './order-replica.model';

/**
 * An order changed status. Applied in order of the order's version: version v needs v−1 applied
 * here first (else it is retried shortly), and a version already applied is a duplicate (acked,
 * no change). A cancelled order frees its ticket, but only if the ticket is still held by *that*
 * order; a completed one keeps it reserved.
 */
export class OrderUpdatedListener extends OrderEventListener<OrderUpdatedEvent> {
  readonly subject = Subjects.OrderUpdated;

  protected async onMessage(order: OrderEventData, { logger }: MessageContext): Promise<HandlerOutcome> {
    const ref = await OrderRef.findById(order.id).lean();
    if (!ref) throw new NotYetError(`order ${order.id} not known yet (order:created not applied)`);
    if (ref.version >= order.version) {
      logger.debug('order:updated already applied');
      return 'duplicate';
    }
    if (ref.version < order.version - 1) {
      throw new NotYetError(`order ${order.id} is at version ${ref.version} here, waiting for ${order.version - 1}`);
    }
    if (!ACTIVE_ORDER_STATUSES.includes(order.status)) await this.release(ref.ticketId, order.id);
    // Advanced only from v−1: a crash before this line replays the step above, which is a no-op
    // the second time (the ticket no longer names this order). Matching nothing means a
    // concurrent delivery of this same version got here first, which is fine.
    await OrderRef.updateOne({ _id: order.id, version: order.version - 1 }, { $set: { version: order.version, status: order.status } });
  }

  private async release(ticketId: string, orderId: string): Promise<void> {
    const ticket = await Ticket.findById(ticketId);
    if (!ticket) throw new Error(`ticket ${ticketId} of order ${orderId} is missing`);
    if (ticket.orderId !== orderId) return; // already free, or held by a newer order
    releaseTicket(ticket);
    await this.relay.saveAndDispatch(ticket); // a VersionError (concurrent change) throws: the event is retried
  }
}
