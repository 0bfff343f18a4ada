import {
  Listener,
  NotYetError,
  Subjects,
  type MessageContext,
  type TicketEventData,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { takeChangeToken } from '../change-token';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { Ticket } from './ticket.model';

/**
 * Applies version v only onto v−1. Several deliveries of the same version (duplicates, copies of
 * this service) may find the replica at v−1 at once; the change token lets exactly one of them
 * write, so a late duplicate can never land after v+1 and move the replica back. Only title, price
 * and version are written, with the source's version as is.
 */
export class TicketUpdatedListener extends Listener<TicketUpdatedEvent> {
  readonly subject = Subjects.TicketUpdated;
  readonly queueGroupName = QUEUE_GROUP_NAME;

  protected async onMessage(data: TicketEventData, context: MessageContext): Promise<void> {
    const replica = await Ticket.findById(data.id, { version: 1 }).lean();
    if (!replica) throw new NotYetError(`ticket ${data.id} v${data.version}: the ticket is not replicated yet`);
    if (replica.version >= data.version) {
      context.logger.debug('ticket:updated duplicate ignored', { ticketId: data.id, version: data.version, replicaVersion: replica.version });
      return;
    }
    if (replica.version < data.version - 1) {
      throw new NotYetError(`ticket ${data.id} v${data.version}: replica is at v${replica.version}, waiting for v${data.version - 1}`);
    }
    // The stream sequence identifies this message across its redeliveries, not its duplicates.
    if (!(await takeChangeToken(`ticket:${data.id}:${data.version}`, `seq:${context.sequence}`))) {
      throw new NotYetError(`ticket ${data.id} v${data.version}: another delivery of this version is applying it`);
    }
    await Ticket.updateOne(
      { _id: data.id, version: data.version - 1 },
      { $set: { title: data.title, price: data.price, version: data.version } },
    );
  }
}
