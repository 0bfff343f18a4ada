import mongoose, { Schema } from 'mongoose';

/**
 * The database alone: one-document versioned updates (`findOne` + `save` with optimistic
 * concurrency), `concurrency` at a time over as many documents. Updates per second.
 */
export async function benchRawMongo(mongoUrl: string, updates: number, concurrency = 32): Promise<number> {
  const connection = await mongoose.createConnection(mongoUrl).asPromise();
  try {
    const Doc = connection.model(
      'BenchDoc',
      new Schema({ title: String, price: Number }, { versionKey: 'version', optimisticConcurrency: true }),
    );
    const docs = await Doc.insertMany(Array.from({ length: concurrency }, (_, i) => ({ title: `bench-${i}`, price: 1 })));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      docs.map(async (d) => {
        while (next < updates) {
          next++;
          const doc = await Doc.findById(d._id);
          doc!.set('price', Number(doc!.get('price')) + 1);
          await doc!.save();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await connection.dropDatabase();
    return updates / seconds;
  } finally {
    await connection.close();
  }
}
