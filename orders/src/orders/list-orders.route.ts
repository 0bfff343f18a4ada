import { isObjectIdString, MAX_ORDERS_PAGE, requireAuth, ValidationError, type ListingGate } from '@ticketing/common';
import { Router } from 'express';
import { Ticket } from '../tickets/ticket-replica.model';
import { orderView } from './order-view';
import { Order } from './order.model';

/**
 * `GET /api/orders?limit=&before=`: the caller's orders with their tickets, newest first, at most
 * MAX_ORDERS_PAGE at a time (what one user has ordered over time is not bounded); `before` is the
 * id of the last order of the previous page. Its queries take one turn at `listings`, as every
 * listing does.
 */
export function listOrdersRouter(listings: ListingGate): Router {
  const router = Router();
  router.get('/api/orders', requireAuth, async (req, res) => {
    const { limit, before } = pageOf(req.query);
    const userId = req.currentUser!.id;
    const { orders, tickets } = await listings.run(async () => {
      const after = before ? await Order.findOne({ _id: before, userId }, { createdAt: 1 }).lean() : null;
      if (before && !after) throw new ValidationError([{ message: 'before must be the id of one of your orders', field: 'before' }]);
      // The same order as the sort: older, or as old with a smaller id.
      const page = after ? { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after._id } }] } : {};
      const orders = await Order.find({ userId, ...page })
        .sort({ createdAt: -1, _id: -1 })
        .limit(limit);
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

/** `limit` once, 1 to MAX_ORDERS_PAGE; `before` once, an order id; nothing else. */
function pageOf(query: Record<string, unknown>): { limit: number; before?: string } {
  const refuse = (field: string, message: string): never => {
    throw new ValidationError([{ message, field }]);
  };
  const unknown = Object.keys(query).find((name) => name !== 'limit' && name !== 'before');
  if (unknown !== undefined) refuse(unknown, 'Unknown query parameter');
  const { limit, before } = query;
  if (limit !== undefined && (typeof limit !== 'string' || !/^[1-9]\d*$/.test(limit) || Number(limit) > MAX_ORDERS_PAGE))
    refuse('limit', `limit must be an integer from 1 to ${MAX_ORDERS_PAGE}`);
  if (before !== undefined && !isObjectIdString(before)) refuse('before', 'before must be an order id (24 hex digits), given once');
  return { limit: limit === undefined ? MAX_ORDERS_PAGE : Number(limit), ...(before === undefined ? {} : { before: before as string }) };
}
