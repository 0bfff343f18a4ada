import { LruMap } from '@ticketing/common';
import type { TicketRecord } from './ticket.model';

/**
 * The tickets this copy wrote last, as it wrote them, so that an edit can skip reading the ticket.
 * Nothing here has to be fresh: the edit's write is guarded by the version, so an entry that
 * another writer has since overtaken (another copy's edit, a reservation) only costs a write that
 * matches nothing, after which the edit reads the ticket and goes on as if it had never looked
 * here. Bounded: the least recently used entries go first.
 */
export class WrittenTickets {
  private readonly records: LruMap<string, TicketRecord>;

  constructor(capacity = 10_000) {
    this.records = new LruMap(capacity);
  }

  get(id: string): TicketRecord | undefined {
    return this.records.get(id);
  }

  remember(record: TicketRecord): void {
    this.records.set(String(record._id), record);
  }

  forget(id: string): void {
    this.records.delete(id);
  }

  get size(): number {
    return this.records.size;
  }
}
