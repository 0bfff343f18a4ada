import { NotFoundError, ValidationError, isObjectIdString, type ListingGate } from '@ticketing/common';
import { Router } from 'express';
import { Ticket, replicaView, type TicketReplica } from './ticket-replica.model';

/** The most ticket ids one `GET /api/orders/tickets?ids=…` may name. */
export const MAX_REPLICA_IDS = 100;

/** The five fields a replica read shows, and nothing else. */
const REPLICA_FIELDS = { title: 1, price: 1, version: 1, replicatedAt: 1 } as const;

/**
 * This service's replicas of tickets, to compare with the source (stress script, end-to-end tests,
 * operators). Public like the tickets themselves: it shows nothing the tickets service does not.
 *
 * - `GET /api/orders/tickets/:id`: one replica, or 404.
 * - `GET /api/orders/tickets?ids=a,b,c`: up to {@link MAX_REPLICA_IDS} replicas in one request, so
 *   a watcher's reads do not grow with the number of tickets it watches (only those that exist).
 *   Up to 100 lookups: it takes a turn at `listings`, as a listing does.
 */
export function showTicketReplicaRouter(listings: ListingGate): Router {
  const router = Router();
  router.get('/api/orders/tickets', async (req, res) => {
    const ids = parseIds(req.query);
    // One lookup by `_id` each: an index lookup on every MongoDB-protocol server, where an `$in`
    // is one on MongoDB but a scan of the collection on some compatible servers (the stand-in's).
    const found = await listings.run(() => Promise.all(ids.map((id) => Ticket.findById(id, REPLICA_FIELDS).lean<TicketReplica>().exec())));
    res.json({ tickets: found.flatMap((ticket) => (ticket ? [replicaView(ticket)] : [])) });
  });
  router.get('/api/orders/tickets/:id', async (req, res) => {
    const id = req.params.id;
    const ticket = isObjectIdString(id) ? await Ticket.findById(id, REPLICA_FIELDS).lean<TicketReplica>() : null;
    if (!ticket) throw new NotFoundError('Ticket not replicated here');
    res.json(replicaView(ticket));
  });
  return router;
}

/** `ids` once, 1 to MAX_REPLICA_IDS distinct ticket ids separated by commas; nothing else. */
function parseIds(query: Record<string, unknown>): string[] {
  const refuse = (message: string, field = 'ids'): never => {
    throw new ValidationError([{ message, field }]);
  };
  const unknown = Object.keys(query).find((name) => name !== 'ids');
  if (unknown !== undefined) refuse('Unknown query parameter', unknown);
  const value = query.ids;
  if (value === undefined || value === '') refuse(`ids must list 1 to ${MAX_REPLICA_IDS} ticket ids, separated by commas`);
  if (typeof value !== 'string') refuse('ids must be given once, as ids=a,b,c');
  const ids = [...new Set((value as string).split(','))];
  if (ids.length > MAX_REPLICA_IDS) refuse(`ids may list at most ${MAX_REPLICA_IDS} ticket ids`);
  const bad = ids.find((id): boolean => !isObjectIdString(id));
  if (bad !== undefined) refuse(`ids must be ticket ids (24 hex digits); got ${JSON.stringify(bad.slice(0, 40))}`);
  return ids;
}
