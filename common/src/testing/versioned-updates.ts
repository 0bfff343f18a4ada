import type mongoose from 'mongoose';

export type RaceDoc = { _id: number | string | mongoose.mongo.ObjectId; v: number; n: number };

/**
 * `clients` clients each do `rounds` versioned updates of document `id` (1 unless given) at once:
 * read it, then update it only if `v` is still what they read, moving `v` and `n` by one.
 * Resolves with how many updates landed; on a server that keeps single-document updates atomic,
 * `v` and `n` both end at exactly that. `idFor` names the document in each client's filter (the
 * same one, maybe spelled as another numeric type). `plainSet` writes `n` with `$set` too (the
 * shape of a replica's update) instead of `$inc`.
 */
export async function versionedUpdates(
  col: mongoose.mongo.Collection<RaceDoc>,
  clients: number,
  rounds: number,
  { id = 1, idFor = () => id, plainSet = false }: { id?: unknown; idFor?: (client: number) => unknown; plainSet?: boolean } = {},
): Promise<number> {
  const applied = await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      let count = 0;
      for (let i = 0; i < rounds; i++) {
        const doc = await col.findOne({ _id: id as never });
        const update = plainSet ? { $set: { v: doc!.v + 1, n: doc!.n + 1 } } : { $set: { v: doc!.v + 1 }, $inc: { n: 1 } };
        const res = await col.updateOne({ _id: idFor(client) as never, v: doc!.v }, update);
        count += res.modifiedCount;
      }
      return count;
    }),
  );
  return applied.reduce((sum, n) => sum + n, 0);
}
