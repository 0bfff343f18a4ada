import { Router } from 'express';
import { requireAuth, Subjects, validateRequest, type OutboxRelay } from '@ticketing/common';
import { Ticket } from './ticket.model';
import { ticketView } from './ticket-view';
import { recordTicketEvent } from './ticket-events';
import { ticketBodyRules, type TicketBody } from './ticket-rules';
import { signedInUser, versionTag } from './find-ticket';
import type { WrittenTickets } from './written-tickets';

export function createTicketRouter({ relay, written }: { relay: OutboxRelay; written: WrittenTickets }): Router {
  const router = Router();
  router.post('/api/tickets', requireAuth, ...ticketBodyRules, validateRequest, async (req, res) => {
    const { title, price } = req.body as TicketBody; // as checked and trimmed in place by the rules
    const ticket = Ticket.build({ title, price, userId: signedInUser(req).id });
    // The event is stored in the same write as the ticket: if the save succeeds, it will be published.
    recordTicketEvent(ticket, Subjects.TicketCreated);
    await relay.saveAndDispatch(ticket);
    written.remember(ticket.toObject());
    res.status(201).set('ETag', versionTag(ticket.version)).json(ticketView(ticket));
  });
  return router;
}
