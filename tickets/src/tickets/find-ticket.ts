import { isObjectIdString, NotFoundError, UnauthorizedError, type UserPayload } from '@ticketing/common';
import type { Request } from 'express';
import { Ticket, type TicketRecord } from './ticket.model';

/**
 * The ticket with this id, as stored (lean: reading routes need no mongoose document, and skipping
 * one is a good part of an edit's cost); a malformed id is simply a ticket that does not exist
 * (404, not 500).
 */
export async function findTicketOr404(id: unknown): Promise<TicketRecord> {
  const ticket = isObjectIdString(id) ? await Ticket.findById(id).lean<TicketRecord>() : null;
  if (!ticket) throw new NotFoundError('Ticket not found');
  return ticket;
}

/** The signed-in user, for routes behind `requireAuth`. */
export function signedInUser(req: Request): UserPayload {
  if (!req.currentUser) throw new UnauthorizedError();
  return req.currentUser;
}

/** A strong ETag of the ticket's version, the value a client sends back in `If-Match`. */
export function versionTag(version: number): string {
  return `"${version}"`;
}
