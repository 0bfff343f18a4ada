import type { HydratedDocument, Model } from 'mongoose';
import type { Bus } from '../bus/types';
import { silentLogger, type Logger } from '../logger';
import { outsideTraces, tracedPublish } from '../tracing/messaging';
import { CLEANUP_STATEMENTS } from './cleanup';
import { storedEntry, type OutboxEntry, type WithOutbox } from './entry';
import { idleSweepDelay } from './sweep-schedule';

export interface OutboxRelayOptions {
  /** How often pending events are looked for while some are known to be left behind (bus down). */
  sweepIntervalMs?: number;
  /**
   * How often they are looked for otherwise (at least; see `idleSweepDelay`): only a copy that
   * died between a write and its publication leaves events unnoticed (a copy that restarts sweeps
   * at once), and each sweep reads the whole collection (no index serves "outbox not empty"
   * without partial indexes), so an idle relay looks rarely.
   */
  idleSweepIntervalMs?: number;
  /**
   * How many published message ids are remembered once their removal is done, for records read
   * before it (default 10,000). Events waiting for removal are always known as published.
   */
  rememberPublished?: number;
  /** Records handled per sweep. */
  sweepBatch?: number;
  /**
   * How long a record's published events wait before a write of their own removes them, together
   * with those of other records (default 1 s). A record written again meanwhile drops them in that
   * write (`storeAndDispatch`) and starts waiting anew with its new events, so a record that
   * changes more often than every half of this never needs a removal of its own.
   */
  cleanupDelayMs?: number;
  logger?: Logger;
}

export class OutboxRelay {
  private readonly chains = new Map<string, Promise<void>>();
  /** Message ids this relay has had stored, oldest first (bounded). */
  private readonly recentlyPublished = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private sweeping?: Promise<number>;
  /** The `_id` after which the next sweep goes on (after a full page). */
  private sweepAfter?: unknown;
  /** A publication failed since the last sweep: what it left must be retried soon. */
  private leftBehind = false;
  /**
   * Published events still to remove, by record id, then by message id, with when the record
   * started waiting; in that order (a record starts waiting only when it is not already).
   */
  private readonly cleanup = new Map<string, { since: number; entries: Map<string, OutboxEntry> }>();
  /** Those the running clean-up is removing. */
  private clearing = new Map<string, Map<string, OutboxEntry>>();
  private cleanupTimer?: NodeJS.Timeout;
  private cleaning: Promise<void> = Promise.resolve();
  /** A clean-up is queued behind the running one and will take what is due by then. */
  private cleanupQueued = false;
  /** The queued clean-up takes every waiting record, due or not (the relay is stopping). */
  private cleanupAll = false;
  private readonly logger: Logger;
  /** Events this relay has had stored by the bus (for tests and metrics). */
  published = 0;
  /** Publications that failed, their events left for the sweep (for metrics). */
  publishFailures = 0;
  /**
   * Events handed to this relay and not yet stored by the bus, with since when; `seen` is cleared
   * when a sweep starts over from the first record, and an event no sweep hands over again by the
   * next start (another copy published it) is dropped.
   */
  private readonly unsent = new Map<string, { since: number; seen: boolean }>();

  constructor(
    private readonly model: Model<any>,
    private readonly bus: Bus,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Publishes a record's pending events, in order, then removes them. Never throws: what cannot be
   * published now stays in the record for the sweep. Calls for one record run one after another.
   */
  dispatch(doc: { id: string; outbox: OutboxEntry[] }): Promise<void> {
    const entries = doc.outbox.map(storedEntry);
    for (const e of entries) {
      if (this.isPublished(doc.id, e.msgId)) continue;
      const known = this.unsent.get(e.msgId);
      if (known) known.seen = true;
      else this.unsent.set(e.msgId, { since: performance.now(), seen: true });
    }
    return this.serialize(doc.id, () => this.publishAll(doc.id, entries));
  }

  /**
   * Of a record's pending events, those not yet stored on the bus as far as this relay knows. A
   * write that stores the record's whole outbox, guarded by its version (so nothing was added since
   * it was read), may keep only these: the others are published and were only waiting for their
   * removal, which that write does in passing (see `storeAndDispatch`).
   */
  unpublished(id: string, entries: OutboxEntry[]): OutboxEntry[] {
    return entries.filter((e) => !this.isPublished(id, e.msgId));
  }

  /**
   * Has `write` store the record's whole outbox — `outbox` (its pending events and the new ones)
   * less what this relay knows is published — then has the rest published. `write` must be
   * guarded by the record's version and resolve false if that matched nothing; then nothing is
   * dispatched, and this resolves false too.
   */
  async storeAndDispatch(id: string, outbox: OutboxEntry[], write: (outbox: OutboxEntry[]) => Promise<boolean>): Promise<boolean> {
    const keep = this.unpublished(id, outbox);
    if (!(await write(keep))) return false;
    const dropped = outbox.filter((e) => !keep.includes(e));
    this.forget(id, dropped);
    void this.dispatch({ id, outbox: keep });
    return true;
  }

  /**
   * `storeAndDispatch` for a document whose model versions every save (`optimisticConcurrency`).
   * Throws what `save()` throws: a `VersionError` means the document changed since it was loaded,
   * and nothing was written.
   */
  async saveAndDispatch(doc: HydratedDocument<WithOutbox>): Promise<void> {
    await this.storeAndDispatch(String(doc._id), [...doc.outbox], async (keep) => {
      if (keep.length < doc.outbox.length) doc.outbox = keep;
      await doc.save();
      return true;
    });
  }

  /** A write removed these published events from the record: their batched removal is not needed. */
  forget(id: string, removed: OutboxEntry[]): void {
    const waiting = this.cleanup.get(id);
    if (!waiting) return;
    for (const e of removed) waiting.entries.delete(e.msgId);
    if (waiting.entries.size === 0) this.cleanup.delete(id);
  }

  /** Starts the periodic sweep (and runs one now: a previous process may have left events). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops sweeping, waits for publications in flight and removes what they published. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await Promise.allSettled([...this.chains.values()]);
    await this.flushCleanup(true);
  }

  /**
   * Publishes what records still hold, one page of records at a time in `_id` order; each sweep
   * goes on from where the last full page ended, so records whose events are only waiting for
   * removal cannot hide the others for long. Resolves with how many of the records found held
   * events not known here as published.
   */
  async sweep(): Promise<number> {
    this.leftBehind = false;
    if (this.sweepAfter === undefined) {
      for (const [msgId, entry] of this.unsent) {
        if (entry.seen) entry.seen = false;
        else this.unsent.delete(msgId);
      }
    }
    const batch = this.options.sweepBatch ?? 500;
    try {
      const page = await this.model
        .find({ 'outbox.0': { $exists: true }, ...(this.sweepAfter === undefined ? {} : { _id: { $gt: this.sweepAfter } }) }, { outbox: 1 })
        .sort({ _id: 1 })
        .limit(batch)
        .lean<{ _id: unknown; outbox: OutboxEntry[] }[]>();
      this.sweepAfter = page.length === batch ? page[page.length - 1]._id : undefined;
      const unknown = page.filter((d) => this.unpublished(String(d._id), d.outbox).length > 0);
      await Promise.all(page.map((d) => this.dispatch({ id: String(d._id), outbox: d.outbox })));
      return unknown.length;
    } catch (err) {
      this.logger.warn('outbox: sweep failed', { err });
      this.leftBehind = true;
      return 0;
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      const started = performance.now();
      this.sweeping = this.sweep();
      const unknown = await this.sweeping;
      this.sweeping = undefined;
      const took = performance.now() - started;
      if (!this.running || this.timer) return;
      // Events this relay knows as published (their removal is pending) are no reason to sweep
      // again soon: at saturation there are always hundreds, and each sweep reads the collection.
      // A failed publication is, and so are unknown events on a full page (there may be more).
      const busy = this.leftBehind || (unknown > 0 && this.sweepAfter !== undefined);
      this.schedule(busy ? (this.options.sweepIntervalMs ?? 1000) : idleSweepDelay(took, this.options.idleSweepIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** Events known here as not yet stored by the bus, and how long the oldest has waited. */
  waiting(): { events: number; oldestMs: number } {
    const oldest = this.unsent.values().next().value;
    return { events: this.unsent.size, oldestMs: oldest ? Math.round(performance.now() - oldest.since) : 0 };
  }

  /** A publication failed: sweep again soon rather than at the idle pace. */
  private noteLeftBehind(): void {
    this.leftBehind = true;
    // Outside the failed publication's trace: the sweep serves every record.
    if (this.running && !this.sweeping) outsideTraces(() => this.schedule(this.options.sweepIntervalMs ?? 1000))();
  }

  private serialize(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(work);
    this.chains.set(id, next);
    void next.finally(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
    return next;
  }

  private async publishAll(id: string, entries: OutboxEntry[]): Promise<void> {
    const done: OutboxEntry[] = [];
    try {
      for (const entry of entries) {
        // A record loaded before its last publication was cleared still carries that event: it is
        // on the bus already, only its removal is pending.
        if (!this.isPublished(id, entry.msgId)) {
          await tracedPublish(entry.subject, entry.msgId, entry.trace, (headers) =>
            this.bus.publish(entry.subject, JSON.parse(entry.payload), entry.msgId, headers),
          );
          this.remember(entry.msgId);
          this.published++;
        }
        this.unsent.delete(entry.msgId);
        done.push(entry);
      }
    } catch (err) {
      // Stop at the first failure: a later event must never overtake an earlier one.
      this.publishFailures++;
      this.logger.warn('outbox: publish failed, left for the sweep', { err, recordId: id });
      this.noteLeftBehind();
    }
    if (done.length > 0) this.queueCleanup(id, done);
  }

  /** Known here as stored by the bus: waiting for removal, being removed, or recently published. */
  private isPublished(id: string, msgId: string): boolean {
    return this.recentlyPublished.has(msgId) || !!this.cleanup.get(id)?.entries.has(msgId) || !!this.clearing.get(id)?.has(msgId);
  }

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
  private queueCleanup(id: string, entries: OutboxEntry[]): void {
    const waiting = this.cleanup.get(id) ?? { since: performance.now(), entries: new Map<string, OutboxEntry>() };
    for (const e of entries) waiting.entries.set(e.msgId, e);
    this.cleanup.set(id, waiting);
    this.scheduleCleanup();
  }

  private get cleanupDelayMs(): number {
    return this.options.cleanupDelayMs ?? 1000;
  }

  /** Sets the timer for when the record waiting longest is due, if no clean-up is pending. */
  private scheduleCleanup(): void {
    if (this.cleanupTimer || this.cleanupQueued) return;
    const oldest = this.cleanup.values().next().value;
    if (!oldest) return;
    const wait = Math.max(0, oldest.since + this.cleanupDelayMs - performance.now());
    // Outside the trace of the publication that set it: a clean-up serves many records.
    this.cleanupTimer = setTimeout(
      outsideTraces(() => void this.flushCleanup(false)),
      wait,
    );
    this.cleanupTimer.unref();
  }

  /**
   * Removes the queued published events that are due (`all`: every one), one batch at a time,
   * after the removal already running. Never rejects.
   */
  private flushCleanup(all: boolean): Promise<void> {
    clearTimeout(this.cleanupTimer);
    this.cleanupTimer = undefined;
    this.cleanupAll ||= all;
    if (this.cleanupQueued || this.cleanup.size === 0) return this.cleaning;
    this.cleanupQueued = true;
    this.cleaning = this.cleaning.then(async () => {
      // Taken only now: what became due while the previous removal ran joins this one. Due: the
      // records that waited at least half the delay. The timer fires when the oldest has waited
      // all of it, and those not far behind come along rather than need a write a moment later.
      const dueSince = this.cleanupAll ? Infinity : performance.now() - this.cleanupDelayMs / 2;
      this.cleanupQueued = false;
      this.cleanupAll = false;
      this.clearing = new Map();
      for (const [id, waiting] of this.cleanup) {
        if (waiting.since > dueSince) break; // the rest waited less: the map is in waiting order
        this.clearing.set(id, waiting.entries);
        this.cleanup.delete(id);
      }
      const batch = [...this.clearing];
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
          this.logger.warn('outbox: could not clear published events', { err, records: chunk.length });
        }
      }
      this.clearing = new Map();
      this.scheduleCleanup();
    });
    return this.cleaning;
  }

  private remember(msgId: string): void {
    this.recentlyPublished.add(msgId);
    if (this.recentlyPublished.size > (this.options.rememberPublished ?? 10_000)) {
      this.recentlyPublished.delete(this.recentlyPublished.values().next().value!);
    }
  }
}
