import { Router } from 'express';
import { matchedData } from 'express-validator';
import { recordEvent, requireAuth, Subjects, validateRequest, type OutboxRelay, type TicketCreatedEvent } from '@ticketing/common';
import { Ticket } from './ticket.model';
import { toTicketEventData } from './ticket-events';
import { ticketBodyRules, type TicketBody } from './ticket-rules';
import { signedInUser, versionTag } from './find-ticket';
import type { WrittenTickets } from './written-tickets';

export function createTicketRouter({ relay, written }: { relay: OutboxRelay; written: WrittenTickets }): Router {
  const router = Router();
  router.post('/api/tickets', requireAuth, ...ticketBodyRules, validateRequest, async (req, res) => {
    const { title, price } = matchedData<TicketBody>(req, { locations: ['body'] });
    const ticket = Ticket.build({ title, price, userId: signedInUser(req).id });
    // The event is stored in the same write as the ticket: if the save succeeds, it will be published.
    recordEvent<TicketCreatedEvent>(ticket, Subjects.TicketCreated, (version) => toTicketEventData(ticket, version));
    await ticket.save();
    void relay.dispatch(ticket);
    written.remember(ticket.toObject());
    res.status(201).set('ETag', versionTag(ticket.version)).json(ticket);
  });
  return router;
}
