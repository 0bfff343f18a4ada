import mongoose from 'mongoose';
import { Subjects } from '@ticketing/common';
import { DEFAULT_STREAM, durableName, JetStreamBus } from '@ticketing/common/testing';

/**
 * orders' queue group (orders/src/queue-group.ts), which names its durable consumers; the NATS
 * permissions in infra/k8s/nats.yaml name them too, so it never changes.
 */
const ORDERS_GROUP = 'orders-service';
const REPLICATED_SUBJECTS = [Subjects.TicketCreated, Subjects.TicketUpdated];
/** Records per bulk write (the stand-in is slow with long commands, see common/src/outbox). */
const BATCH = 200;

export interface RebuildOptions {
  /** tickets' database (the owner), e.g. mongodb://tickets-mongo:27017/tickets. */
  ticketsMongoUrl: string;
  /** orders' database (the replica), e.g. mongodb://orders-mongo:27017/orders. */
  ordersMongoUrl: string;
  natsUrl: string;
  /** A NATS user allowed to delete orders' consumers (admin), where the server has users. */
  natsUser?: string;
  natsPassword?: string;
}

export interface RebuildResult {
  /** orders' durable consumers that were deleted (they start afresh from the stream's first event). */
  consumersDeleted: string[];
  /** Tickets in the owner's database. */
  tickets: number;
  /** Replicas written from the owner (missing, or older than the owner's version). */
  written: number;
}

/**
 * Rebuilds orders' ticket replica from a snapshot of the owner (docs/kubernetes.md, "Stream
 * limits"): for a consumer that fell further behind than the stream keeps, and refuses to start.
 * Run it while orders is stopped:
 * 1. delete orders' durable consumers of ticket events, so that they start again at the stream's
 *    first event (a consumer that never received anything is not refused);
 * 2. copy every ticket of tickets' database into the replica, each only over an older version.
 * When orders starts, it replays what the stream still holds on top; the versions make every
 * event already in the snapshot a duplicate and apply the newer ones, so writes made meanwhile are
 * not lost. Running it twice changes nothing the second time.
 */
export async function rebuildTicketReplica(options: RebuildOptions): Promise<RebuildResult> {
  const consumersDeleted = await deleteConsumers(options, ORDERS_GROUP, REPLICATED_SUBJECTS);
  const owner = await mongoose.createConnection(options.ticketsMongoUrl).asPromise();
  const replica = await mongoose.createConnection(options.ordersMongoUrl).asPromise();
  try {
    const source = owner.collection<{ title: string; price: number; version: number }>('tickets');
    const replicas = async function* () {
      for await (const t of source.find({}, { projection: { title: 1, price: 1, version: 1 } })) {
        yield { _id: t._id, version: t.version, set: { title: t.title, price: t.price, replicatedAt: new Date() } };
      }
    };
    const { read: tickets, written } = await writeAllOverOlder(replica.collection('tickets'), replicas());
    return { consumersDeleted, tickets, written };
  } finally {
    await owner.close();
    await replica.close();
  }
}

/**
 * Deletes a queue group's durable consumers of these subjects, so that they start again at the
 * stream's first event; those that do not exist are left out of the answer.
 */
export async function deleteConsumers(
  options: Pick<RebuildOptions, 'natsUrl' | 'natsUser' | 'natsPassword'>,
  group: string,
  subjects: string[],
): Promise<string[]> {
  const bus = await JetStreamBus.connect({
    servers: options.natsUrl,
    name: 'rebuild-replica',
    user: options.natsUser,
    pass: options.natsPassword,
  });
  const deleted: string[] = [];
  try {
    for (const subject of subjects) {
      const name = durableName(group, subject);
      const gone = await bus.manager.consumers.delete(DEFAULT_STREAM, name).catch((err: unknown) => {
        if (/consumer not found/i.test(String(err))) return false;
        throw err;
      });
      if (gone) deleted.push(name);
    }
  } finally {
    await bus.close();
  }
  return deleted;
}

/** A record to write over an older version of itself: its `set` and its `version`. */
export interface OverOlder {
  _id: unknown;
  version: number;
  set: Record<string, unknown>;
}

/** Writes every record over an older version of it, BATCH to a command; how many it read and wrote. */
export async function writeAllOverOlder(
  collection: mongoose.mongo.Collection,
  records: AsyncIterable<OverOlder>,
): Promise<{ read: number; written: number }> {
  let [read, written] = [0, 0];
  let batch: OverOlder[] = [];
  for await (const record of records) {
    read++;
    batch.push(record);
    if (batch.length === BATCH) {
      written += await writeOverOlder(collection, batch);
      batch = [];
    }
  }
  written += await writeOverOlder(collection, batch);
  return { read, written };
}

/**
 * Writes each record's `set` and `version` over an older version of it, or inserts it; resolves
 * with how many were written. A record already at that version or newer matches nothing, and its
 * upsert then collides on `_id` (E11000), which is the "leave it" answer.
 */
async function writeOverOlder(collection: mongoose.mongo.Collection, records: OverOlder[]): Promise<number> {
  if (records.length === 0) return 0;
  const result = await collection
    .bulkWrite(
      records.map((r) => ({
        updateOne: {
          filter: { _id: r._id, version: { $lt: r.version } },
          update: { $set: { ...r.set, version: r.version } },
          upsert: true,
        },
      })) as Parameters<mongoose.mongo.Collection['bulkWrite']>[0],
      { ordered: false },
    )
    .catch((err: { code?: number; writeErrors?: { code: number }[]; result?: mongoose.mongo.BulkWriteResult }) => {
      const errors = err.writeErrors ?? [];
      if (errors.length === 0 || errors.some((e) => e.code !== 11000) || !err.result) throw err;
      return err.result;
    });
  return result.modifiedCount + result.upsertedCount;
}
