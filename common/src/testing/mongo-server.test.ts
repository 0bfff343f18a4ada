import mongoose from 'mongoose';
import { testMongoUrl } from './helpers';

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
      const col = client.db().collection<{ _id: number; v: number; n: number }>('race');
      await col.insertOne({ _id: 1, v: 0, n: 0 });
      let successes = 0;
      await Promise.all(
        Array.from({ length: 30 }, async () => {
          for (let i = 0; i < 15; i++) {
            const doc = await col.findOne({ _id: 1 });
            const res = await col.updateOne({ _id: 1, v: doc!.v }, { $set: { v: doc!.v + 1 }, $inc: { n: 1 } });
            successes += res.modifiedCount;
          }
        }),
      );
      const final = await col.findOne({ _id: 1 });
      // each success moved v by exactly one: two winners for the same v would leave v < successes
      expect(final).toEqual({ _id: 1, v: successes, n: successes });
      expect(successes).toBeGreaterThan(15);
    } finally {
      await client.close();
    }
  });
});
