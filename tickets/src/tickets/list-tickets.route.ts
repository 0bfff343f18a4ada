import { Router, type RequestHandler } from 'express';
import { matchedData, query } from 'express-validator';
import { isObjectIdString, TICKET_LIMITS, ValidationError, validateRequest, type ListingGate } from '@ticketing/common';
import { Ticket } from './ticket.model';
import { ticketView } from './ticket-view';

export const DEFAULT_PAGE_SIZE = TICKET_LIMITS.defaultPageSize;
export const MAX_PAGE_SIZE = TICKET_LIMITS.maxPageSize;

const listRules = [
  query('limit')
    .optional()
    .isString()
    .withMessage('limit must be given once')
    .bail()
    .isInt({ min: 1, max: MAX_PAGE_SIZE, allow_leading_zeroes: false })
    .withMessage(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`)
    .toInt(),
  query('cursor')
    .optional()
    .isString()
    .withMessage('cursor must be given once')
    .bail()
    .custom(isObjectIdString)
    .withMessage('cursor must be a nextCursor value from a previous page'),
];

/**
 * Free (unreserved) tickets, newest first, one page at a time: `nextCursor` fetches the next.
 * The query takes its turn at `listings`, so a burst of listings waits or gets 503 rather than
 * making every other request wait for the database.
 */
export function listTicketsRouter(listings: ListingGate): Router {
  const router = Router();
  router.get('/api/tickets', onlyQueryParams(['limit', 'cursor']), ...listRules, validateRequest, async (req, res) => {
    const { limit = DEFAULT_PAGE_SIZE, cursor } = matchedData<{ limit?: number; cursor?: string }>(req, { locations: ['query'] });
    // ObjectIds grow with creation time, so `_id` gives "newest first" and a stable cursor at once.
    const page = await listings.run(() =>
      Ticket.find({ orderId: null, ...(cursor ? { _id: { $lt: cursor } } : {}) })
        .select('-outbox')
        .sort({ _id: -1 })
        .limit(limit + 1)
        .exec(),
    );
    const tickets = page.slice(0, limit);
    res.json({ tickets: tickets.map(ticketView), nextCursor: page.length > limit ? tickets[tickets.length - 1].id : null });
  });
  return router;
}

/**
 * Any other parameter is refused rather than ignored, so that a filter a client believes it
 * applied (or an operator such as `userId[$ne]=x`) never silently does something else.
 */
function onlyQueryParams(known: string[]): RequestHandler {
  return (req, _res, next) => {
    const unknown = Object.keys(req.query).filter((name) => !known.includes(name));
    if (unknown.length) throw new ValidationError(unknown.map((field) => ({ message: 'Unknown query parameter', field })));
    next();
  };
}
