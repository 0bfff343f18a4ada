/**
 * Message ids a relay has had stored by the bus, oldest first, at most `limit` of them: a record
 * read before its published events were removed still carries them, and they must not go out again.
 */
export class PublishedIds {
  private readonly ids = new Set<string>();

  constructor(private readonly limit: number) {}

  add(msgId: string): void {
    this.ids.add(msgId);
    if (this.ids.size > this.limit) {
      this.ids.delete(this.ids.values().next().value!);
    }
  }

  has(msgId: string): boolean {
    return this.ids.has(msgId);
  }
}
