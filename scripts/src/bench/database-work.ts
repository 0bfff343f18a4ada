import mongoose from 'mongoose';
import { SameTurn } from '@ticketing/common/testing';

/**
 * The database work of one end-to-end ticket update, and nothing else (no HTTP, no bus, no
 * services): the edit's versioned write of the change with its event in the ticket (no read: the
 * copy that wrote the ticket last knows its version) and the replica's versioned write, as plain
 * driver calls, `concurrency` tickets at once; the replica's writes of one turn of the event loop
 * go in one bulk, as the orders service applies the events that arrive together. Updates per
 * second. On a machine shared by everything, this bounds what the whole system can reach: the
 * services, the bus and the load only take CPU from it.
 */
export async function benchDatabaseWork(server: (database: string) => string, updates: number, concurrency = 64): Promise<number> {
  const tickets = await mongoose.createConnection(server('bench_work_tickets')).asPromise();
  const orders = await mongoose.createConnection(server('bench_work_orders')).asPromise();
  try {
    const source = tickets.collection('tickets');
    const replica = orders.collection('tickets');
    const ids = Array.from({ length: concurrency }, () => new mongoose.Types.ObjectId());
    await source.insertMany(ids.map((_id) => ({ _id, title: 'bench', price: 1, userId: 'bench', version: 0, outbox: [] })));
    await replica.insertMany(ids.map((_id) => ({ _id, title: 'bench', price: 1, version: 0 })));
    const apply = sameTurnBulk(replica);
    let next = 0;
    const versions = new Map<mongoose.Types.ObjectId, number>();
    const started = performance.now();
    await Promise.all(
      ids.map(async (_id) => {
        while (next < updates) {
          next++;
          const version = (versions.get(_id) ?? 0) + 1;
          versions.set(_id, version);
          const data = { id: String(_id), version, title: 'bench', price: version, userId: 'bench' };
          const event = { msgId: `ticket:updated:${data.id}:${version}`, subject: 'ticket:updated', payload: JSON.stringify(data) };
          const edit = await source.updateOne({ _id, version: version - 1 }, { $set: { price: version, version, outbox: [event] } });
          const applied = await apply({ _id, version: version - 1 }, { $set: { price: version, version, replicatedAt: new Date() } });
          if (edit.matchedCount !== 1 || !applied) throw new Error(`database work: ticket ${data.id} v${version} did not apply`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await tickets.dropDatabase();
    await orders.dropDatabase();
    return updates / seconds;
  } finally {
    await tickets.close();
    await orders.close();
  }
}

/**
 * Versioned updates of one turn sent as one unordered bulk; each resolves true if the whole bulk
 * applied. At most 32 per bulk, as orders' listener batches (the stand-in refuses a command of over
 * 50 statements, and how many land in one turn depends on how fast the server answers).
 */
function sameTurnBulk(collection: mongoose.mongo.Collection) {
  type Update = {
    updateOne: { filter: mongoose.mongo.Filter<mongoose.mongo.Document>; update: mongoose.mongo.UpdateFilter<mongoose.mongo.Document> };
  };
  const bulks = new SameTurn<{ op: Update; done: (applied: boolean) => void; fail: (err: unknown) => void }>((batch) => {
    collection
      .bulkWrite(
        batch.map((w) => w.op),
        { ordered: false },
      )
      .then(
        ({ matchedCount }) => batch.forEach((w) => w.done(matchedCount === batch.length)),
        (err: unknown) => batch.forEach((w) => w.fail(err)),
      );
  }, 32);
  return (filter: Update['updateOne']['filter'], update: Update['updateOne']['update']) =>
    new Promise<boolean>((done, fail) => bulks.add({ op: { updateOne: { filter, update } }, done, fail }));
}
