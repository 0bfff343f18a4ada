import { ConflictError, requireAuth } from '@ticketing/common';
import { Router } from 'express';
import { CANCELLABLE_STATUSES, cancelOrder } from './cancel-order';
import { findOwnOrder } from './find-own-order';
import { orderView } from './order-view';
import type { OrderRouteDeps } from './route-deps';

/**
 * `DELETE /api/orders/:id` cancels the caller's order. The order is kept (status `cancelled`, for
 * history and for the tickets service's replica); 200 with the cancelled order.
 */
export function cancelOrderRouter(deps: OrderRouteDeps): Router {
  const router = Router();
  router.delete('/api/orders/:id', requireAuth, async (req, res) => {
    const { order, ticket } = await findOwnOrder(req.params.id, req.currentUser!.id);
    if (!CANCELLABLE_STATUSES.includes(order.status)) {
      throw new ConflictError(`A ${order.status} order cannot be cancelled`);
    }
    // A concurrent expiry or cancel makes this save fail with a VersionError: 409, no second event.
    await cancelOrder(order, ticket, deps.relay);
    res.json(orderView(order, ticket));
  });
  return router;
}
