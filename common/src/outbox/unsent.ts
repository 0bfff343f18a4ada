/**
 * Events handed to the relay and not yet stored by the bus, with since when (for metrics). `seen`
 * is cleared when a sweep starts over from the first record, and an event no sweep hands over
 * again by the next start (another copy published it) is dropped.
 */
export class UnsentEvents {
  private readonly events = new Map<string, { since: number; seen: boolean }>();

  /** The event was handed over for publication (again). */
  handedOver(msgId: string): void {
    const known = this.events.get(msgId);
    if (known) known.seen = true;
    else this.events.set(msgId, { since: performance.now(), seen: true });
  }

  /** The bus has stored it (or it was known as published). */
  sent(msgId: string): void {
    this.events.delete(msgId);
  }

  /** A sweep starts over from the first record: drop what no sweep handed over since the last start. */
  passStarts(): void {
    for (const [msgId, entry] of this.events) {
      if (entry.seen) entry.seen = false;
      else this.events.delete(msgId);
    }
  }

  /** How many there are, and how long the oldest has waited. */
  waiting(): { events: number; oldestMs: number } {
    const oldest = this.events.values().next().value;
    return { events: this.events.size, oldestMs: oldest ? Math.round(performance.now() - oldest.since) : 0 };
  }
}
