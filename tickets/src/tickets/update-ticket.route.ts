import { Router } from 'express';
import { body, matchedData } from 'express-validator';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  outboxEntry,
  requireAuth,
  Subjects,
  validateRequest,
  type OutboxRelay,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { toTicketEventData } from './ticket-events';
import { ticketBodyRules, type TicketBody } from './ticket-rules';
import { findTicketOr404, signedInUser, versionTag } from './find-ticket';
import { Ticket, ticketJson } from './ticket.model';
import { expectedVersion } from './expected-version';

const versionRule = body('version')
  .optional()
  .custom((value) => Number.isSafeInteger(value) && value >= 0)
  .withMessage('version must be the ticket version you last saw (an integer)');

export function updateTicketRouter({ relay }: { relay: OutboxRelay }): Router {
  const router = Router();
  router.put('/api/tickets/:id', requireAuth, ...ticketBodyRules, versionRule, validateRequest, async (req, res) => {
    const { title, price, version } = matchedData<TicketBody & { version?: number }>(req, { locations: ['body'] });
    const expected = expectedVersion(req.get('If-Match'), version);
    const ticket = await findTicketOr404(req.params.id);
    if (ticket.userId !== signedInUser(req).id) throw new ForbiddenError('Only the owner can edit this ticket');
    if (expected !== undefined && expected !== ticket.version) {
      throw new ConflictError(`The ticket is at version ${ticket.version}, not ${expected}: reload it and retry`);
    }
    if (ticket.orderId) throw new BadRequestError('The ticket is reserved by an order and cannot be edited');

    // One conditional single-document write stores the change, the next version and its event:
    // if anything wrote the ticket since we read it (another edit, a reservation), it matches
    // nothing and the edit is answered 409. Written directly rather than through a mongoose
    // document's save(): hydrating and validating the document (its pending events included) was
    // a quarter of the service's CPU per edit.
    const id = String(ticket._id);
    const edited = { ...ticket, title, price, version: ticket.version + 1 };
    const event = outboxEntry<TicketUpdatedEvent>(Subjects.TicketUpdated, toTicketEventData({ ...edited, id }, edited.version));
    // The events already published leave the record in the same write (their removal was only
    // waiting to be batched): a ticket edited often never needs a clean-up write of its own.
    const stored = await relay.storeAndDispatch(id, [...(ticket.outbox ?? []), event], async (outbox) => {
      const { matchedCount } = await Ticket.updateOne(
        { _id: ticket._id, version: ticket.version },
        { $set: { title, price, version: edited.version, outbox } },
        { runValidators: true },
      );
      return matchedCount === 1;
    });
    if (!stored) throw new ConflictError('The ticket was changed by someone else meanwhile: reload it and retry');
    res.set('ETag', versionTag(edited.version)).json(ticketJson(edited));
  });
  return router;
}
