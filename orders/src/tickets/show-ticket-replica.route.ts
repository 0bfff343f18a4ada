import { NotFoundError } from '@ticketing/common';
import { Router } from 'express';
import { isObjectIdString } from '../object-id';
import { Ticket, replicaView } from './ticket.model';

/**
 * `GET /api/orders/tickets/:id`: this service's replica of a ticket, to compare with the source
 * (stress script, end-to-end tests, operators). Polled for hundreds of tickets, so one lean read
 * of five fields. Public like the tickets themselves: it shows nothing the tickets service does not.
 */
export function showTicketReplicaRouter(): Router {
  const router = Router();
  router.get('/api/orders/tickets/:id', async (req, res) => {
    const id = req.params.id;
    const ticket = isObjectIdString(id) ? await Ticket.findById(id, { title: 1, price: 1, version: 1, replicatedAt: 1 }).lean() : null;
    if (!ticket) throw new NotFoundError('Ticket not replicated here');
    res.json(replicaView(ticket));
  });
  return router;
}
