import mongoose from 'mongoose';

/**
 * The database work of one end-to-end ticket update, and nothing else (no HTTP, no bus, no
 * services): the edit's versioned write of the change with its event in the ticket (no read: the
 * copy that wrote the ticket last knows its version) and the replica's versioned write, as plain
 * driver calls, `concurrency` tickets at once. Updates per
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
          const apply = await replica.updateOne(
            { _id, version: version - 1 },
            { $set: { price: version, version, replicatedAt: new Date() } },
          );
          if (edit.matchedCount !== 1 || apply.matchedCount !== 1)
            throw new Error(`database work: ticket ${data.id} v${version} did not apply`);
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
