import { Router } from 'express';
import { body } from 'express-validator';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  outboxEntry,
  requireAuth,
  Subjects,
  validateRequest,
  type OutboxEntry,
  type OutboxRelay,
  type TicketUpdatedEvent,
} from '@ticketing/common';
import { toTicketEventData } from './ticket-events';
import { ticketBodyRules, type TicketBody } from './ticket-rules';
import { findTicketOr404, signedInUser, versionTag } from './find-ticket';
import { Ticket, type TicketRecord } from './ticket.model';
import { ticketView } from './ticket-view';
import type { WrittenTickets } from './written-tickets';
import { expectedVersion } from './expected-version';

const versionRule = body('version')
  .optional()
  .custom((value) => Number.isSafeInteger(value) && value >= 0)
  .withMessage('version must be the ticket version you last saw (an integer)');

export function updateTicketRouter({ relay, written }: { relay: OutboxRelay; written: WrittenTickets }): Router {
  /**
   * One conditional single-document write stores the change, the next version and its event: if
   * anything wrote the ticket since `ticket` was read (another edit, a reservation), it matches
   * nothing and this resolves undefined. Written with the driver, not through mongoose: hydrating
   * and validating a document (its pending events included) was a quarter of the service's CPU per
   * edit, and casting and validating an update another tenth, for values the request's rules have
   * already checked and fields whose types are fixed here.
   */
  async function store(ticket: TicketRecord, change: TicketBody): Promise<TicketRecord | undefined> {
    const id = String(ticket._id);
    const edited = { ...ticket, ...change, version: ticket.version + 1 };
    const event = outboxEntry<TicketUpdatedEvent>(Subjects.TicketUpdated, toTicketEventData({ ...edited, id }, edited.version));
    // The events already published leave the record in the same write (their removal was only
    // waiting to be batched): a ticket edited often never needs a clean-up write of its own.
    let outbox: OutboxEntry[] = [];
    const stored = await relay.storeAndDispatch(id, [...(ticket.outbox ?? []), event], async (keep) => {
      outbox = keep;
      const { matchedCount } = await Ticket.collection.updateOne(
        { _id: ticket._id, version: ticket.version },
        { $set: { ...change, version: edited.version, outbox } },
      );
      return matchedCount === 1;
    });
    if (!stored) return undefined;
    written.remember({ ...edited, outbox });
    return edited;
  }

  const router = Router();
  router.put('/api/tickets/:id', requireAuth, ...ticketBodyRules, versionRule, validateRequest, async (req, res) => {
    // As checked and trimmed in place by the rules above (`matchedData` would rebuild the same
    // values through lodash on every edit).
    const { title, price, version } = req.body as TicketBody & { version?: number };
    const expected = expectedVersion(req.get('If-Match'), version);
    const user = signedInUser(req);
    const respond = (edited: TicketRecord) => res.set('ETag', versionTag(edited.version)).json(ticketView(edited));

    // The ticket as this copy last wrote it, if that allows the edit: no read at all when it is
    // still current, which it is unless someone else wrote the ticket since. Every refusal below
    // is decided on a fresh read, never on this.
    const known = written.get(String(req.params.id));
    if (known && known.userId === user.id && !known.orderId && (expected === undefined || expected === known.version)) {
      const edited = await store(known, { title, price });
      if (edited) return respond(edited);
      written.forget(String(known._id));
    }

    const ticket = await findTicketOr404(req.params.id);
    if (ticket.userId !== user.id) throw new ForbiddenError('Only the owner can edit this ticket');
    if (expected !== undefined && expected !== ticket.version) {
      throw new ConflictError(`The ticket is at version ${ticket.version}, not ${expected}: reload it and retry`);
    }
    if (ticket.orderId) throw new BadRequestError('The ticket is reserved by an order and cannot be edited');
    const edited = await store(ticket, { title, price });
    if (!edited) throw new ConflictError('The ticket was changed by someone else meanwhile: reload it and retry');
    respond(edited);
  });
  return router;
}
