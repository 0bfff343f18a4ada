import { isObjectIdString, OrderStatus, requireAuth, Subjects, validateRequest } from '@ticketing/common';
import { Router } from 'express';
import { body } from 'express-validator';
import { recordOrderEvent } from './order-events';
import { orderView } from './order-view';
import { Order } from './order.model';
import type { OrderRouteDeps } from './route-deps';
import { claimTicket, withdrawClaim } from './ticket-claim';

/** `POST /api/orders { ticketId }`: reserves a free ticket for the caller. */
export function createOrderRouter({ relay, clock, expirationSeconds }: OrderRouteDeps): Router {
  const router = Router();
  router.post(
    '/api/orders',
    requireAuth,
    // `custom`, not isMongoId: express-validator's standard validators check each element of an
    // array, so `["<id>"]` would pass; an object such as `{ "$ne": null }` must not either.
    body('ticketId').custom(isObjectIdString).withMessage('ticketId must be a ticket id (24 hex digits)'),
    validateRequest,
    async (req, res) => {
      const ticketId = req.body.ticketId as string;
      const now = clock();
      const order = new Order({
        userId: req.currentUser!.id,
        status: OrderStatus.Created,
        expiresAt: new Date(now.getTime() + expirationSeconds * 1000),
        ticket: ticketId,
      });
      // 404 for an unknown ticket, 409 for a held one; nothing is written in either case.
      const ticket = await claimTicket(ticketId, order._id, now);
      recordOrderEvent(order, Subjects.OrderCreated, { id: ticketId, price: ticket.price });
      try {
        await relay.saveAndDispatch(order);
      } catch (err) {
        // Nothing was stored: give the ticket back now rather than after the claim's grace period.
        await withdrawClaim(ticket._id, order._id).catch(() => undefined);
        throw err;
      }
      res.status(201).json(orderView(order, ticket));
    },
  );
  return router;
}
