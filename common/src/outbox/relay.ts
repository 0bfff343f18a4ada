import type { HydratedDocument, Model } from 'mongoose';
import type { Bus } from '../bus/types';
import { silentLogger, type Logger } from '../logger';
import { tracedPublish } from '../tracing/messaging';
import { OutboxCleanup } from './cleanup';
import { storedEntry, type OutboxEntry, type WithOutbox } from './entry';
import { PublishedIds } from './published-ids';
import { RecordQueue } from './record-queue';
import { SweepSchedule } from './sweep-schedule';
import { UnsentEvents } from './unsent';
import { saveAndDispatch, storeAndDispatch } from './write';

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

/**
 * Publishes the events records hold in their outbox, in order per record, and has them removed once
 * the bus has stored them. The parts, each in its own file: `RecordQueue` (one record's
 * publications one after another), `PublishedIds` and `OutboxCleanup` (what is known as published,
 * and its deferred batched removal), `SweepSchedule` (when to look for what was left behind),
 * `UnsentEvents` (what is waiting, for metrics) and the write API in `write.ts`.
 */
export class OutboxRelay {
  private readonly queue = new RecordQueue();
  /** Message ids this relay has had stored whose removal is done (bounded). */
  private readonly recentlyPublished: PublishedIds;
  private readonly cleanup: OutboxCleanup;
  private readonly schedule: SweepSchedule;
  private readonly unsent = new UnsentEvents();
  /** The `_id` after which the next sweep goes on (after a full page). */
  private sweepAfter?: unknown;
  private readonly logger: Logger;
  /** Events this relay has had stored by the bus (for tests and metrics). */
  published = 0;
  /** Publications that failed, their events left for the sweep (for metrics). */
  publishFailures = 0;

  constructor(
    private readonly model: Model<any>,
    private readonly bus: Bus,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.recentlyPublished = new PublishedIds(options.rememberPublished ?? 10_000);
    this.cleanup = new OutboxCleanup(model, () => this.options.cleanupDelayMs ?? 1000, this.logger);
    this.schedule = new SweepSchedule(
      () => this.sweep(),
      () => this.sweepAfter !== undefined,
      options,
    );
  }

  /**
   * Publishes a record's pending events, in order, then removes them. Never throws: what cannot be
   * published now stays in the record for the sweep. Calls for one record run one after another.
   */
  dispatch(doc: { id: string; outbox: OutboxEntry[] }): Promise<void> {
    const entries = doc.outbox.map(storedEntry);
    for (const e of entries) {
      if (!this.isPublished(doc.id, e.msgId)) this.unsent.handedOver(e.msgId);
    }
    return this.queue.run(doc.id, () => this.publishAll(doc.id, entries));
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
  storeAndDispatch(id: string, outbox: OutboxEntry[], write: (outbox: OutboxEntry[]) => Promise<boolean>): Promise<boolean> {
    return storeAndDispatch(this, id, outbox, write);
  }

  /**
   * `storeAndDispatch` for a document whose model versions every save (`optimisticConcurrency`).
   * Throws what `save()` throws: a `VersionError` means the document changed since it was loaded,
   * and nothing was written.
   */
  saveAndDispatch(doc: HydratedDocument<WithOutbox>): Promise<void> {
    return saveAndDispatch(this, doc);
  }

  /** A write removed these published events from the record: their batched removal is not needed. */
  forget(id: string, removed: OutboxEntry[]): void {
    this.cleanup.forget(id, removed);
  }

  /** Starts the periodic sweep (and runs one now: a previous process may have left events). */
  start(): void {
    this.schedule.start();
  }

  /** Stops sweeping, waits for publications in flight and removes what they published. */
  async stop(): Promise<void> {
    await this.schedule.stop();
    await this.queue.settled();
    await this.cleanup.flush(true);
  }

  /**
   * Publishes what records still hold, one page of records at a time in `_id` order; each sweep
   * goes on from where the last full page ended, so records whose events are only waiting for
   * removal cannot hide the others for long. Resolves with how many of the records found held
   * events not known here as published.
   */
  async sweep(): Promise<number> {
    this.schedule.sweepStarts();
    if (this.sweepAfter === undefined) this.unsent.passStarts();
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
      this.logger.warn({ err }, 'outbox: sweep failed');
      this.schedule.sweepFailed();
      return 0;
    }
  }

  /** Events known here as not yet stored by the bus, and how long the oldest has waited. */
  waiting(): { events: number; oldestMs: number } {
    return this.unsent.waiting();
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
          this.recentlyPublished.add(entry.msgId);
          this.published++;
        }
        this.unsent.sent(entry.msgId);
        done.push(entry);
      }
    } catch (err) {
      // Stop at the first failure: a later event must never overtake an earlier one.
      this.publishFailures++;
      this.logger.warn({ err, recordId: id }, 'outbox: publish failed, left for the sweep');
      this.schedule.publicationFailed();
    }
    if (done.length > 0) this.cleanup.queue(id, done);
  }

  /** Known here as stored by the bus: waiting for removal, being removed, or recently published. */
  private isPublished(id: string, msgId: string): boolean {
    return this.recentlyPublished.has(msgId) || this.cleanup.holds(id, msgId);
  }
}
