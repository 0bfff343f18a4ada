/**
 * Runs work one job after another per record, records in parallel: a record's events must reach
 * the bus in order, so a dispatch for a record waits for the one before it.
 */
export class RecordQueue {
  private readonly chains = new Map<string, Promise<void>>();

  run(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(work);
    this.chains.set(id, next);
    void next.finally(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
    return next;
  }

  /** Settles when every job queued so far has. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.chains.values()]);
  }
}
