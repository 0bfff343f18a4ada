import {
  Listener,
  NotYetError,
  Subjects,
  type HandlerOutcome,
  type MessageContext,
  type TicketEventData,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { Types } from 'mongoose';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { Ticket } from './ticket.model';

/**
 * Applies version v only onto v−1, in one conditional single-document update, so concurrent
 * deliveries of one ticket's events (duplicates, several copies of this service) can never apply
 * out of order or twice. The source's version is written as is; nothing here increments it.
 */
export class TicketUpdatedListener extends Listener<TicketUpdatedEvent> {
  readonly subject = Subjects.TicketUpdated;
  readonly queueGroupName = QUEUE_GROUP_NAME;

  protected async onMessage(data: TicketEventData, context: MessageContext): Promise<HandlerOutcome> {
    // Through the driver, not mongoose's casting: the payload's schema has checked every value.
    const applied = await Ticket.collection.updateOne(
      { _id: new Types.ObjectId(data.id), version: data.version - 1 },
      { $set: { title: data.title, price: data.price, version: data.version, replicatedAt: new Date() } },
    );
    if (applied.matchedCount === 1) return;

    // Not applied: find out whether it is a duplicate (ack) or early (retry after a delay).
    const replica = await Ticket.findById(data.id, { version: 1 }).lean();
    if (!replica) throw new NotYetError(`ticket ${data.id} v${data.version}: the ticket is not replicated yet`);
    if (replica.version >= data.version) {
      context.logger.debug('ticket:updated duplicate ignored', {
        ticketId: data.id,
        version: data.version,
        replicaVersion: replica.version,
      });
      return 'duplicate';
    }
    throw new NotYetError(`ticket ${data.id} v${data.version}: replica is at v${replica.version}, waiting for v${data.version - 1}`);
  }
}
