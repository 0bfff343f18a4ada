import { Router } from 'express';
import { body, matchedData } from 'express-validator';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  recordEvent,
  requireAuth,
  Subjects,
  validateRequest,
  type OutboxRelay,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { toTicketEventData } from './ticket-events';
import { ticketBodyRules, type TicketBody } from './ticket-rules';
import { findTicketOr404, signedInUser, versionTag } from './find-ticket';
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

    ticket.set({ title, price });
    recordEvent<TicketUpdatedEvent>(ticket, Subjects.TicketUpdated, (next) => toTicketEventData(ticket, next));
    // Optimistic concurrency: if anything saved the ticket since we loaded it (another edit, a
    // reservation), this save matches nothing and throws a VersionError, answered as 409.
    await ticket.save();
    void relay.dispatch(ticket);
    res.set('ETag', versionTag(ticket.version)).json(ticket);
  });
  return router;
}
