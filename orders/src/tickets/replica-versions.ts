import { LruMap } from '@ticketing/common';

/** Tickets whose replica version this copy remembers. */
const REMEMBERED_TICKETS = 10_000;

/**
 * The version each ticket's replica was at when this copy last wrote or read it: a hint only, for
 * deciding which events can go in one bulk write (each statement still checks the version), so a
 * stale entry costs a fallback, never a wrong write. Shared by the created and updated listeners,
 * so that the first update of a ticket this copy just created can join a bulk too.
 */
export class ReplicaVersions extends LruMap<string, number> {
  constructor(capacity = REMEMBERED_TICKETS) {
    super(capacity);
  }
}
