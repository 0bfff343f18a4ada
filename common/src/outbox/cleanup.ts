import type { Model } from 'mongoose';
import type { Logger } from '../logger';
import { outsideTraces } from '../tracing/messaging';
import { storedEntry, type OutboxEntry } from './entry';

/**
 * Records cleaned up per write command. Why so few: FerretDB 1.24 on SQLite keeps a query open for
 * every statement of an update command until the whole command ends, from a pool of 100
 * connections, so a command of 100 statements waits for a connection it holds itself — and every
 * other client waits with it, for good (seen in the benchmark with batches of 500).
 */
export const CLEANUP_STATEMENTS = 20;

/**
 * What the clean-up has scheduled. A removal may be running in any of them (`removing`); when it
 * ends it schedules the next one itself.
 * - `idle`: nothing scheduled (no record waiting, or a removal is running).
 * - `timed`: a timer starts a removal when the record waiting longest is due.
 * - `queued`: a removal is queued behind the running one; it takes what is due when it starts.
 */
type CleanupState = { kind: 'idle' } | { kind: 'timed'; timer: NodeJS.Timeout } | { kind: 'queued' };

/**
 * Published events are removed a little later, many records in one write. Why not at once: the
 * removal was a third of the database writes behind every change (save, removal, the replica's
 * apply), and a record that changes again soon needs no removal at all: its next write drops
 * them. So only records that have waited a while are taken, not every record waiting when the
 * timer fires: at saturation with 256 tickets, each edited every 0.4 s, taking them all had added
 * a removal for 4 edits in 10 (the tickets edited last, about to be edited again). While
 * they wait, the events are known here as published, so nothing publishes them again; if the
 * process dies first, a sweep publishes them again: the bus drops them as duplicates within its
 * de-duplication window, and after it the consumers recognise them by version.
 *
 * Publication never waits for removal: when the database is too busy for removals to keep up,
 * they fall behind (and catch up in bigger batches), but events keep flowing.
 */
export class OutboxCleanup {
  /**
   * Published events still to remove, by record id, then by message id, with when the record
   * started waiting; in that order (a record starts waiting only when it is not already).
   */
  private readonly waiting = new Map<string, { since: number; entries: Map<string, OutboxEntry> }>();
  /** Those the running removal is removing. */
  private removingNow = new Map<string, Map<string, OutboxEntry>>();
  private state: CleanupState = { kind: 'idle' };
  /** The running removal, and those queued behind it. */
  private removing: Promise<void> = Promise.resolve();
  /** The next removal takes every waiting record, due or not (the relay is stopping). */
  private nextTakesAll = false;

  constructor(
    private readonly model: Model<any>,
    private readonly delayMs: () => number,
    private readonly logger: Logger,
  ) {}

  /** Waiting for removal or being removed: known as published. */
  holds(id: string, msgId: string): boolean {
    return !!this.waiting.get(id)?.entries.has(msgId) || !!this.removingNow.get(id)?.has(msgId);
  }

  /** These events of the record are published: remove them later. */
  queue(id: string, entries: OutboxEntry[]): void {
    const waiting = this.waiting.get(id) ?? { since: performance.now(), entries: new Map<string, OutboxEntry>() };
    for (const e of entries) waiting.entries.set(e.msgId, e);
    this.waiting.set(id, waiting);
    this.schedule();
  }

  /** A write removed these published events from the record: their batched removal is not needed. */
  forget(id: string, removed: OutboxEntry[]): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    for (const e of removed) waiting.entries.delete(e.msgId);
    if (waiting.entries.size === 0) this.waiting.delete(id);
  }

  /** Sets the timer for when the record waiting longest is due, if no removal is scheduled. */
  private schedule(): void {
    if (this.state.kind !== 'idle') return;
    const oldest = this.waiting.values().next().value;
    if (!oldest) return;
    const wait = Math.max(0, oldest.since + this.delayMs() - performance.now());
    // Outside the trace of the publication that set it: a clean-up serves many records.
    const timer = setTimeout(
      outsideTraces(() => void this.flush(false)),
      wait,
    );
    timer.unref();
    this.state = { kind: 'timed', timer };
  }

  /**
   * Removes the queued published events that are due (`all`: every one), one batch at a time,
   * after the removal already running. Never rejects.
   */
  flush(all: boolean): Promise<void> {
    if (this.state.kind === 'timed') {
      clearTimeout(this.state.timer);
      this.state = { kind: 'idle' };
    }
    this.nextTakesAll ||= all;
    if (this.state.kind === 'queued' || this.waiting.size === 0) return this.removing;
    this.state = { kind: 'queued' };
    this.removing = this.removing.then(async () => {
      // Taken only now: what became due while the previous removal ran joins this one. Due: the
      // records that waited at least half the delay. The timer fires when the oldest has waited
      // all of it, and those not far behind come along rather than need a write a moment later.
      const dueSince = this.nextTakesAll ? Infinity : performance.now() - this.delayMs() / 2;
      this.state = { kind: 'idle' };
      this.nextTakesAll = false;
      this.removingNow = new Map();
      for (const [id, waiting] of this.waiting) {
        if (waiting.since > dueSince) break; // the rest waited less: the map is in waiting order
        this.removingNow.set(id, waiting.entries);
        this.waiting.delete(id);
      }
      const batch = [...this.removingNow];
      for (let start = 0; start < batch.length; start += CLEANUP_STATEMENTS) {
        const chunk = batch.slice(start, start + CLEANUP_STATEMENTS);
        try {
          // Removed by exact value (portable: FerretDB's $pull matches whole elements only); an
          // entry already removed elsewhere simply matches nothing.
          await this.model.bulkWrite(
            chunk.map(([id, entries]) => ({
              updateOne: {
                filter: { _id: id },
                update: {
                  $pullAll: { outbox: [...entries.values()].map(storedEntry) },
                },
              },
            })),
            { ordered: false },
          );
        } catch (err) {
          // Published but not removed: a sweep publishes them again and the bus drops the duplicates.
          this.logger.warn({ err, records: chunk.length }, 'outbox: could not clear published events');
        }
      }
      this.removingNow = new Map();
      this.schedule();
    });
    return this.removing;
  }
}
