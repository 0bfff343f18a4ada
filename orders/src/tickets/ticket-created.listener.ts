import {
  Listener,
  Subjects,
  type BatchItem,
  type BatchResult,
  type HandlerOutcome,
  type Logger,
  type MessageContext,
  type TicketCreatedEvent,
  type TicketEventData,
  type Bus,
} from '@ticketing/common';
import mongoose, { Types } from 'mongoose';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { ReplicaVersions } from './replica-versions';
import type { ReplicationLag } from './replication-lag';
import { Ticket } from './ticket-replica.model';

/** MongoDB's duplicate-key error: this ticket's replica already exists. */
const DUPLICATE_KEY = 11000;

/**
 * Creates the replica with the source's id and version. An insert, never an upsert: the unique
 * `_id` makes a redelivered create fail instead of overwriting a replica that later updates have
 * already moved on. The creates that arrive together are inserted in one unordered `insertMany`;
 * each one's outcome comes from its own index in the reply (a duplicate key is a duplicate).
 */
export class TicketCreatedListener extends Listener<TicketCreatedEvent> {
  readonly subject = Subjects.TicketCreated;
  readonly queueGroupName = QUEUE_GROUP_NAME;
  protected override readonly batchSize = 32;
  /** Several bulks in flight: while one waits for the database, the next fills. */
  protected override readonly concurrency = 128;
  /** Insert commands made for more than one event, and the events they carried. */
  readonly bulk = { writes: 0, events: 0 };

  constructor(
    bus: Bus,
    logger?: Logger,
    private readonly versions = new ReplicaVersions(),
    /** Where the time from each event's publication to its replica write is measured, if anywhere. */
    private readonly lag?: ReplicationLag,
  ) {
    super(bus, logger);
  }

  protected override onApplied(context: MessageContext): void {
    this.lag?.observe(context);
  }

  protected async onMessage(data: TicketEventData, context: MessageContext): Promise<HandlerOutcome> {
    const [result] = await this.insert([{ data, context }]);
    if ('error' in result) throw result.error;
    return result.outcome;
  }

  protected override onBatch(items: BatchItem<TicketEventData>[]): Promise<BatchResult>[] {
    if (items.length < 2) return items.map((item) => this.handleOne(item));
    const results = this.inBulkSpan(items, () => this.insert(items));
    this.bulk.writes++;
    this.bulk.events += items.length;
    return items.map((_, i) => results.then((all) => all[i]));
  }

  private async insert(items: BatchItem<TicketEventData>[]): Promise<BatchResult[]> {
    const replicatedAt = new Date();
    const documents = items.map(({ data }) => ({
      _id: new Types.ObjectId(data.id),
      title: data.title,
      price: data.price,
      version: data.version,
      replicatedAt,
    }));
    let failed = new Map<number, { code?: unknown; errmsg?: string }>();
    try {
      // Through the driver, not mongoose's casting: the payload's schema has checked every value.
      await Ticket.collection.insertMany(documents, { ordered: false });
    } catch (error) {
      if (!(error instanceof mongoose.mongo.MongoBulkWriteError)) return items.map(() => ({ error }));
      const writeErrors = [error.writeErrors].flat();
      failed = new Map(writeErrors.map((e) => [e.index, { code: e.code, errmsg: e.errmsg }]));
      // Anything but per-document errors (say, a lost connection mid-reply) leaves each outcome
      // unknown: all are retried, and those that did land come back as duplicates.
      if (writeErrors.length === 0) return items.map(() => ({ error }));
    }
    return items.map(({ data, context }, i): BatchResult => {
      const problem = failed.get(i);
      if (!problem) {
        this.versions.set(data.id, data.version);
        return { outcome: 'applied' };
      }
      if (problem.code !== DUPLICATE_KEY)
        return { error: new Error(`ticket ${data.id}: insert failed: ${problem.errmsg ?? problem.code}`) };
      context.logger.debug('ticket:created duplicate ignored');
      return { outcome: 'duplicate' };
    });
  }
}
