import {
  Listener,
  NotYetError,
  Subjects,
  type BatchItem,
  type BatchResult,
  type HandlerOutcome,
  type MessageContext,
  type TicketEventData,
  type TicketUpdatedEvent,
  type Bus,
  type Logger,
} from '@ticketing/common';
import { Types } from 'mongoose';
import { QUEUE_GROUP_NAME } from '../queue-group';
import { ReplicaVersions } from './replica-versions';
import type { ReplicationLag } from './replication-lag';
import { Ticket } from './ticket-replica.model';

/**
 * Applies version v only onto v−1, in one conditional single-document update, so concurrent
 * deliveries of one ticket's events (duplicates, several copies of this service) can never apply
 * out of order or twice. The source's version is written as is; nothing here increments it.
 *
 * Events that arrive together are applied in one bulk write when this copy knows each is the
 * next one of its ticket (it applied v−1 itself): one command for many events, where a command
 * each cost the database and this service several times more per event. Each statement keeps its
 * version condition, so nothing about ordering changes; the others take the one-by-one way.
 */
export class TicketUpdatedListener extends Listener<TicketUpdatedEvent> {
  readonly subject = Subjects.TicketUpdated;
  readonly queueGroupName = QUEUE_GROUP_NAME;
  protected override readonly batchSize = 32;
  /** Several bulks in flight: while one waits for the database, the next fills. */
  protected override readonly concurrency = 128;
  /** Bulk writes made, the events they applied, and bulks that had to be redone one by one. */
  readonly bulk = { writes: 0, events: 0, fellBack: 0 };

  constructor(
    bus: Bus,
    logger?: Logger,
    /** The version each ticket's replica was at when this copy last wrote or read it. */
    private readonly applied = new ReplicaVersions(),
    /** Where the time from each event's publication to its replica write is measured, if anywhere. */
    private readonly lag?: ReplicationLag,
  ) {
    super(bus, logger);
  }

  protected override onApplied(context: MessageContext): void {
    this.lag?.observe(context);
  }

  protected async onMessage(data: TicketEventData, context: MessageContext): Promise<HandlerOutcome> {
    // Through the driver, not mongoose's casting: the payload's schema has checked every value.
    const applied = await Ticket.collection.updateOne({ _id: new Types.ObjectId(data.id), version: data.version - 1 }, this.change(data));
    if (applied.matchedCount === 1) {
      this.applied.set(data.id, data.version);
      return;
    }

    // Not applied: find out whether it is a duplicate (ack) or early (retry after a delay).
    const replica = await Ticket.findById(data.id, { version: 1 }).lean();
    if (!replica) throw new NotYetError(`ticket ${data.id} v${data.version}: the ticket is not replicated yet`);
    this.applied.set(data.id, replica.version);
    if (replica.version >= data.version) {
      context.logger.debug({ replicaVersion: replica.version }, 'ticket:updated duplicate ignored');
      return 'duplicate';
    }
    throw new NotYetError(`ticket ${data.id} v${data.version}: replica is at v${replica.version}, waiting for v${data.version - 1}`);
  }

  protected override onBatch(items: BatchItem<TicketEventData>[]): Promise<BatchResult>[] {
    // In the bulk: at most one event per ticket, each the next version of what this copy wrote.
    // The others go one by one, each acknowledged as soon as it is done.
    const inBulk = new Set<string>();
    const bulk: number[] = [];
    items.forEach(({ data }, i) => {
      if (!inBulk.has(data.id) && this.applied.get(data.id) === data.version - 1) {
        inBulk.add(data.id);
        bulk.push(i);
      }
    });
    if (bulk.length < 2) return items.map((item) => this.handleOne(item));
    const inBulkItems = bulk.map((i) => items[i]);
    const bulkResults = this.inBulkSpan(inBulkItems, () => this.applyInBulk(inBulkItems));
    return items.map((item, i) => {
      const at = bulk.indexOf(i);
      return at >= 0 ? bulkResults.then((results) => results[at]) : this.handleOne(item);
    });
  }

  private async applyInBulk(items: BatchItem<TicketEventData>[]): Promise<BatchResult[]> {
    try {
      const { matchedCount } = await Ticket.collection.bulkWrite(
        items.map(({ data }) => ({
          updateOne: { filter: { _id: new Types.ObjectId(data.id), version: data.version - 1 }, update: this.change(data) },
        })),
        { ordered: false },
      );
      this.bulk.writes++;
      if (matchedCount === items.length) {
        this.bulk.events += items.length;
        for (const { data } of items) this.applied.set(data.id, data.version);
        return items.map(() => ({ outcome: 'applied' }));
      }
      // Some replica was not where this copy last saw it (another copy was given the same event
      // again). Each event is decided alone; one the bulk did apply is then taken for a duplicate:
      // acknowledged all the same, only counted as such.
      this.bulk.fellBack++;
      items[0].context.logger.warn({ events: items.length, applied: matchedCount }, 'ticket:updated batch fell back to one by one');
      return await Promise.all(items.map((item) => this.handleOne(item)));
    } catch (error) {
      return items.map(() => ({ error }));
    }
  }

  private change(data: TicketEventData) {
    return { $set: { title: data.title, price: data.price, version: data.version, replicatedAt: new Date() } };
  }
}
