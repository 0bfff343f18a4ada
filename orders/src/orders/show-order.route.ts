import { requireAuth } from '@ticketing/common';
import { Router } from 'express';
import { findOwnOrder } from './find-own-order';
import { orderView } from './order-view';

/** `GET /api/orders/:id`: one of the caller's orders (404 if unknown or someone else's). */
export function showOrderRouter(): Router {
  const router = Router();
  router.get('/api/orders/:id', requireAuth, async (req, res) => {
    const { order, ticket } = await findOwnOrder(req.params.id, req.currentUser!.id);
    res.json(orderView(order, ticket));
  });
  return router;
}
