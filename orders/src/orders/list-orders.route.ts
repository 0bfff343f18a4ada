import { requireAuth, type ListingGate } from '@ticketing/common';
import { Router } from 'express';
import { Ticket } from '../tickets/ticket.model';
import { orderView } from './order-view';
import { Order } from './order.model';

/**
 * `GET /api/orders`: the caller's orders with their tickets, newest first. Its queries take one
 * turn at `listings`, as every listing does.
 */
export function listOrdersRouter(listings: ListingGate): Router {
  const router = Router();
  router.get('/api/orders', requireAuth, async (req, res) => {
    const { orders, tickets } = await listings.run(async () => {
      const orders = await Order.find({ userId: req.currentUser!.id }).sort({ createdAt: -1, _id: -1 });
      // One query for all the tickets rather than one per order.
      const tickets = await Ticket.find({ _id: { $in: orders.map((o) => o.ticket) } }).lean();
      return { orders, tickets };
    });
    const byId = new Map(tickets.map((t) => [String(t._id), t]));
    res.json(
      orders.flatMap((order) => {
        const ticket = byId.get(String(order.ticket));
        return ticket ? [orderView(order, ticket)] : [];
      }),
    );
  });
  return router;
}
