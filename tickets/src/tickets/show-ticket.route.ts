import { Router } from 'express';
import { findTicketOr404, versionTag } from './find-ticket';
import { ticketView } from './ticket-view';

export function showTicketRouter(): Router {
  const router = Router();
  router.get('/api/tickets/:id', async (req, res) => {
    const ticket = await findTicketOr404(req.params.id);
    res.set('ETag', versionTag(ticket.version)).json(ticketView(ticket));
  });
  return router;
}
