import mongoose from 'mongoose';
import { testMongoUrl } from './helpers';
import { databaseUrl, serverUrl } from './mongo-server';
import { versionedUpdates, type RaceDoc } from './versioned-updates';

/**
 * The services rely on MongoDB's promise that one update of one document is atomic (version
 * checks, replicas, the outbox). FerretDB 1.x does not keep it by itself (it reads, then writes
 * whole documents back), so the kit's launcher serializes such writes; this proves the server the
 * tests run on keeps the promise.
 */
describe('the MongoDB-protocol server used by tests', () => {
  it('when many clients race conditional updates on one document, then no update is lost', async () => {
    const client = await mongoose.mongo.MongoClient.connect(testMongoUrl('atomicity'), { maxPoolSize: 50 });
    try {
      const col = client.db().collection<RaceDoc>('race');
      await col.insertOne({ _id: 1, v: 0, n: 0 });
      const successes = await versionedUpdates(col, 30, 15);
      const final = await col.findOne({ _id: 1 });
      // each success moved v by exactly one: two winners for the same v would leave v < successes
      expect(final).toEqual({ _id: 1, v: successes, n: successes });
      expect(successes).toBeGreaterThanOrEqual(15); // the floor: each client's try lands or loses to one that did
    } finally {
      await client.close();
    }
  });

  it('when an update is filtered by _id and other fields, then it matches exactly as MongoDB would', async () => {
    const client = await mongoose.mongo.MongoClient.connect(testMongoUrl('filters'));
    try {
      const col = client.db().collection('docs');
      // a version stored as a double must match an integer in the filter, and vice versa
      await col.insertOne({ _id: 'a' as never, v: new mongoose.mongo.Double(2), s: 'x', b: true });
      expect((await col.updateOne({ _id: 'a' as never, v: 2 }, { $set: { seen: 1 } })).matchedCount).toBe(1);
      expect((await col.updateOne({ _id: 'a' as never, v: 2, s: 'x', b: true }, { $set: { seen: 2 } })).matchedCount).toBe(1);
      for (const stale of [{ v: 3 }, { s: 'y' }, { b: false }, { missing: 1 }]) {
        const res = await col.updateOne({ _id: 'a' as never, ...stale }, { $set: { seen: 99 } });
        expect(res.matchedCount).toBe(0);
      }
      expect((await col.updateOne({ _id: 'nope' as never, v: 2 }, { $set: { seen: 99 } })).matchedCount).toBe(0);
      expect(await col.findOne({ _id: 'a' as never })).toMatchObject({ v: 2, seen: 2 });
      expect(await col.countDocuments()).toBe(1);
    } finally {
      await client.close();
    }
  });

  /** The query plan as text: mongod names its stages (IDHACK, EXPRESS_IXSCAN, COLLSCAN), FerretDB gives SQLite's plan lines. */
  async function planOfFindById(col: mongoose.mongo.Collection, id: unknown): Promise<string> {
    const explained = await col.find({ _id: id as never }).explain('queryPlanner');
    return JSON.stringify(explained.queryPlanner);
  }

  it('when a document is looked up by _id, then the server uses an index, also after the collection is dropped and made again', async () => {
    // FerretDB 1.24 on SQLite indexes `_id` under another spelling than its lookups use, so without
    // the launcher's extra index every findById, and every update by _id, reads the whole collection.
    const client = await mongoose.mongo.MongoClient.connect(testMongoUrl('id-lookups'));
    try {
      const db = client.db();
      const usesIndex = /USING INDEX|IDHACK|EXPRESS|IXSCAN/;
      const scans = /\bSCAN\b|COLLSCAN/;
      for (const round of [1, 2, 3]) {
        const col = db.collection('lookups');
        const id = new mongoose.mongo.ObjectId();
        await col.insertMany([
          { _id: id, round },
          { _id: new mongoose.mongo.ObjectId(), round },
        ]);
        expect(await col.findOne({ _id: id })).toEqual({ _id: id, round });
        // (after a real query: SQLite refreshes a connection's view of the schema when it runs a
        // statement, not when it only explains one)
        const plan = await planOfFindById(col, id);
        expect(plan).toMatch(usesIndex);
        expect(plan).not.toMatch(scans);
        if (round === 1) await col.drop();
        if (round === 2) await db.dropDatabase();
      }
    } finally {
      await client.close();
    }
  });

  it('when MONGO_URL names a database or not, then the kit keeps only the server and adds its own databases', () => {
    expect(serverUrl('mongodb://127.0.0.1:27017')).toBe('mongodb://127.0.0.1:27017');
    expect(serverUrl('mongodb://127.0.0.1:27017/')).toBe('mongodb://127.0.0.1:27017');
    expect(serverUrl('mongodb://u:p@a:1,b:2/app?replicaSet=rs')).toBe('mongodb://u:p@a:1,b:2/?replicaSet=rs');
    expect(databaseUrl(serverUrl('mongodb://a:1/app?replicaSet=rs'), 'orders')).toBe('mongodb://a:1/orders?replicaSet=rs');
    expect(databaseUrl(serverUrl('mongodb+srv://cluster.example/app'), 'tickets')).toBe('mongodb+srv://cluster.example/tickets');
  });
});
