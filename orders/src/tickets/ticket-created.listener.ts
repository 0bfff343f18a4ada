import {
  Listener,
  Subjects,
  type HandlerOutcome,
  type MessageContext,
  type TicketCreatedEvent,
  type TicketEventData,
} from '@ticketing/common';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { Ticket } from './ticket.model';

/** MongoDB's duplicate-key error: this ticket's replica already exists. */
const DUPLICATE_KEY = 11000;

/** Creates the replica with the source's id and version. */
export class TicketCreatedListener extends Listener<TicketCreatedEvent> {
  readonly subject = Subjects.TicketCreated;
  readonly queueGroupName = QUEUE_GROUP_NAME;

  protected async onMessage(data: TicketEventData, context: MessageContext): Promise<HandlerOutcome> {
    try {
      // An insert, never an upsert: the unique `_id` makes a redelivered create fail instead of
      // overwriting a replica that later updates have already moved on.
      await Ticket.create({ _id: data.id, title: data.title, price: data.price, version: data.version, replicatedAt: new Date() });
    } catch (err) {
      if ((err as { code?: unknown }).code !== DUPLICATE_KEY) throw err;
      context.logger.debug('ticket:created duplicate ignored', { ticketId: data.id, version: data.version });
      return 'duplicate';
    }
  }
}
