import type { TicketRecord } from './ticket.model';

/**
 * The tickets this copy wrote last, as it wrote them, so that an edit can skip reading the ticket.
 * Nothing here has to be fresh: the edit's write is guarded by the version, so an entry that
 * another writer has since overtaken (another copy's edit, a reservation) only costs a write that
 * matches nothing, after which the edit reads the ticket and goes on as if it had never looked
 * here. Bounded: the least recently used entries go first.
 */
export class WrittenTickets {
  private readonly records = new Map<string, TicketRecord>();

  constructor(readonly capacity = 10_000) {}

  get(id: string): TicketRecord | undefined {
    const record = this.records.get(id);
    if (record) {
      this.records.delete(id);
      this.records.set(id, record);
    }
    return record;
  }

  remember(record: TicketRecord): void {
    const id = String(record._id);
    this.records.delete(id);
    this.records.set(id, record);
    if (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value!);
  }

  forget(id: string): void {
    this.records.delete(id);
  }

  get size(): number {
    return this.records.size;
  }
}
