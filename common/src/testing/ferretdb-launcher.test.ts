import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import mongoose from 'mongoose';
import { freePort, waitForPort } from './net';
import { chooseMongo, databaseUrl, startMongoServer, type MongoServerHandle } from './mongo-server';
import { versionedUpdates, type RaceDoc } from './versioned-updates';

/**
 * The FerretDB launcher (infra/local/ferretdb) checkpoints SQLite's write-ahead log itself, off
 * the clients' path. Under steady writes SQLite never starts the log over by itself, so the
 * launcher empties it at a moment it makes quiet; done carelessly, that stalls every writer (a
 * TRUNCATE checkpoint amid FerretDB's updates waited for them while they waited for it).
 * These tests run the launcher itself, so only where it is the server in use.
 */
const launcherInUse = chooseMongo().kind === 'ferretdb';

(launcherInUse ? describe : describe.skip)('the FerretDB launcher', () => {
  let server: MongoServerHandle;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-launcher-'));
    server = await startMongoServer({ dataDir });
  });
  afterAll(async () => {
    await server?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs `use` on database `name` through a client of its own (at most `maxPoolSize` connections), closed afterwards. */
  const withDatabase = async (name: string, maxPoolSize: number, use: (db: mongoose.mongo.Db) => Promise<void>) => {
    const client = await mongoose.mongo.MongoClient.connect(databaseUrl(server.url, name), { maxPoolSize });
    try {
      await use(client.db());
    } finally {
      await client.close();
    }
  };

  const logSize = (db: string) => {
    const file = path.join(dataDir, `${db}.sqlite-wal`);
    return fs.existsSync(file) ? fs.statSync(file).size : 0;
  };

  it('when many clients keep updating documents, then every update lands and the log stays bounded', async () => {
    await withDatabase('steady', 32, async (db) => {
      const col = db.collection<{ _id: number; v: number; blob: string }>('docs');
      const writers = 16;
      const rounds = 400;
      await col.insertMany(Array.from({ length: writers }, (_, i) => ({ _id: i, v: 0, blob: '' })));
      let largestLog = 0;
      const sampler = setInterval(() => (largestLog = Math.max(largestLog, logSize('steady'))), 50);
      // cleared even when an update fails or the test times out, so that jest can exit
      try {
        // 6,400 updates write some 80 MB of log in all (each commit appends whole 4 KB pages), far
        // past the 16 MB at which the launcher empties it
        await Promise.all(
          Array.from({ length: writers }, async (_, id) => {
            for (let v = 1; v <= rounds; v++) {
              const res = await col.updateOne({ _id: id, v: v - 1 }, { $set: { v, blob: String(v % 10).repeat(100) } });
              expect(res.modifiedCount).toBe(1);
            }
          }),
        );
      } finally {
        clearInterval(sampler);
      }

      const docs = await col.find({}, { projection: { v: 1 } }).toArray();
      expect(docs).toEqual(Array.from({ length: writers }, (_, i) => ({ _id: i, v: rounds })));
      // Without the emptying the log keeps everything written since SQLite last started it over:
      // 79 MB when tried; with it, at most 16 MB plus what a second adds (24 MB when tried).
      expect(largestLog).toBeGreaterThan(0);
      expect(largestLog).toBeLessThan(48 * 2 ** 20);
    });
    // More time than jest's default: the log must grow well past 16 MB, and the stand-in runs the
    // 6,400 updates of one database one at a time, which a shared 2-core machine can stretch.
  }, 120_000);

  it('when a database is dropped and made again while the launcher checkpoints, then no write is lost', async () => {
    await withDatabase('again', 100, async (db) => {
      for (let round = 0; round < 15; round++) {
        await db.collection('docs').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i as never, round, blob: 'x'.repeat(2000) })));
        // let the launcher's once-a-second checkpoint see this database's log now and then
        await new Promise((r) => setTimeout(r, 100));
        expect(await db.collection('docs').countDocuments({ round })).toBe(50);
        await db.dropDatabase();
      }
    });
  });

  it('when a client sends an update of a hundred statements, then it gets a clear error and the server keeps answering everyone', async () => {
    // FerretDB 1.24 on SQLite holds a connection per statement until the command ends, from a pool
    // of 100: such a command waited for itself, and every other client with it, for good.
    await withDatabase('statements', 100, async (db) => {
      const col = db.collection<{ _id: number; n: number }>('docs');
      await col.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, n: 0 })));
      const all = Array.from({ length: 100 }, (_, i) => ({ updateOne: { filter: { _id: i }, update: { $inc: { n: 1 } } } }));
      await expect(col.bulkWrite(all, { ordered: false })).rejects.toThrow(/at most 50 per command/);
      await expect(
        col.deleteMany({ _id: { $gte: 0 } }).then(() => col.bulkWrite(all.map(() => ({ deleteOne: { filter: { _id: 1 } } })))),
      ).rejects.toThrow(/at most 50/);
      // what the limit allows goes through, and the server still answers
      await col.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, n: 0 })));
      expect((await col.bulkWrite(all.slice(0, 50), { ordered: false })).modifiedCount).toBe(50);
      expect(await col.countDocuments({ n: 1 })).toBe(50);
    });
  });

  it('when several clients send large updates to different collections at once, then all of them finish', async () => {
    // Each statement holds one of FerretDB's 100 connections until its command ends: three commands
    // of 50 statements at once would take them all and wait for each other.
    await withDatabase('concurrent', 10, async (db) => {
      const names = ['a', 'b', 'c', 'd'];
      await Promise.all(names.map((n) => db.collection(n).insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i as never, n: 0 })))));
      const results = await Promise.all(
        names.map((n) =>
          db.collection(n).bulkWrite(
            Array.from({ length: 50 }, (_, i) => ({ updateOne: { filter: { _id: i as never }, update: { $inc: { n: 1 } } } })),
            { ordered: false },
          ),
        ),
      );
      expect(results.map((r) => r.modifiedCount)).toEqual([50, 50, 50, 50]);
    });
  });

  it('when versioned updates race on one document named by numbers of different types, then no update is lost', async () => {
    // 1 and 1.0 are one document to MongoDB: whichever spelling a filter uses, two updates must
    // never both pass the version check.
    await withDatabase('numeric_ids', 16, async (db) => {
      const col = db.collection<RaceDoc>('race');
      await col.insertOne({ _id: 1, v: 0, n: 0 });
      const ids = [1, new mongoose.mongo.Double(1), mongoose.mongo.Long.fromNumber(1)];
      const successes = await versionedUpdates(col, 12, 15, { idFor: (client) => ids[client % 3] });
      expect(await col.findOne({ _id: 1 })).toEqual({ _id: 1, v: successes, n: successes });
      expect(successes).toBeGreaterThanOrEqual(15); // the floor: each client's try lands or loses to one that did
    });
  });

  it('when versioned updates race on documents named by an ObjectId and by a string, then no update is lost', async () => {
    // The proxy decides these filters on the document it fetches by _id (pushdown.go); a string
    // _id and an ObjectId are different documents.
    await withDatabase('direct_race', 16, async (db) => {
      const col = db.collection<RaceDoc>('race');
      const ids = [new mongoose.mongo.ObjectId(), 'ticket-1'];
      await col.insertMany(ids.map((_id) => ({ _id, v: 0, n: 0 })));
      const landed = await Promise.all(ids.map((id) => versionedUpdates(col, 6, 15, { id })));
      for (const [i, _id] of ids.entries()) {
        const successes = landed[i];
        expect(await col.findOne({ _id })).toEqual({ _id, v: successes, n: successes });
        // Each of a client's 15 tries either lands or lost to one that landed meanwhile: at least
        // 15 land. (It said more than 15, which six clients in lockstep need not give: it failed
        // once on Node 22 with exactly 15.)
        expect(successes).toBeGreaterThanOrEqual(15);
      }
    });
  });

  it('when a versioned filter differs from the stored document only in type, then it matches nothing, as on MongoDB', async () => {
    await withDatabase('direct_types', 4, async (db) => {
      const col = db.collection('docs');
      const oid = new mongoose.mongo.ObjectId();
      const other = new mongoose.mongo.ObjectId();
      await col.insertMany([
        { _id: oid, v: 1, s: 'a', b: true, o: other, h: other.toHexString() },
        { _id: 'plain' as never, v: 7 },
      ]);
      const cases: [mongoose.mongo.Document, number][] = [
        [{ _id: oid, v: 1 }, 1],
        [{ _id: oid, v: new mongoose.mongo.Double(1) }, 1],
        [{ _id: oid, v: mongoose.mongo.Long.fromNumber(1) }, 1],
        [{ _id: oid, v: '1' }, 0],
        [{ _id: oid, v: 2 }, 0],
        [{ _id: oid, s: 'a' }, 1],
        [{ _id: oid, s: 'b' }, 0],
        [{ _id: oid, b: true }, 1],
        [{ _id: oid, b: 1 }, 0],
        [{ _id: oid, o: other }, 1],
        [{ _id: oid, o: other.toHexString() }, 0],
        [{ _id: oid, h: other }, 0],
        [{ _id: oid, h: other.toHexString() }, 1],
        [{ _id: oid, missing: 1 }, 0],
        [{ _id: oid, v: 7 }, 0],
        [{ _id: 'plain' as never, v: 7 }, 1],
        [{ _id: 'plain' as never, v: '7' }, 0],
        // the same hex digits as a string name no document here (FerretDB's storage would look alike)
        [{ _id: oid.toHexString() as never, v: 1 }, 0],
        [{ _id: new mongoose.mongo.ObjectId(), v: 1 }, 0],
      ];
      const matched = [];
      for (const [filter] of cases) matched.push((await col.updateOne(filter, { $inc: { n: 1 } })).matchedCount);
      expect(matched).toEqual(cases.map(([, expected]) => expected));
      expect(await col.findOne({ _id: oid })).toMatchObject({ v: 1, n: 7 });
    });
  });

  it('when a database or a collection is dropped and made again, then versioned updates see the new documents', async () => {
    await withDatabase('direct_drop', 4, async (db) => {
      const _id = new mongoose.mongo.ObjectId();
      for (const drop of [() => db.dropDatabase(), () => db.collection('docs').drop()]) {
        const col = db.collection('docs');
        await col.insertOne({ _id, v: 5 });
        expect((await col.updateOne({ _id, v: 5 }, { $set: { v: 6 } })).matchedCount).toBe(1);
        await drop();
        await col.insertOne({ _id, v: 0 });
        expect((await col.updateOne({ _id, v: 6 }, { $set: { v: 7 } })).matchedCount).toBe(0);
        expect((await col.updateOne({ _id, v: 0 }, { $set: { v: 1 } })).matchedCount).toBe(1);
        expect(await col.findOne({ _id })).toEqual({ _id, v: 1 });
        await db.dropDatabase();
      }
    });
  });

  it('when a collection is renamed and another made under its name, then versioned updates see the new one', async () => {
    await withDatabase('direct_rename', 4, async (db) => {
      const _id = new mongoose.mongo.ObjectId();
      await db.collection('docs').insertOne({ _id, v: 5 });
      expect((await db.collection('docs').updateOne({ _id, v: 5 }, { $set: { v: 6 } })).matchedCount).toBe(1);
      await db.collection('docs').rename('old_docs');
      await db.collection('docs').insertOne({ _id, v: 0 });
      // v 6 is the renamed collection's document, not this one's
      expect((await db.collection('docs').updateOne({ _id, v: 6 }, { $set: { v: 7 } })).matchedCount).toBe(0);
      expect((await db.collection('docs').updateOne({ _id, v: 0 }, { $set: { v: 1 } })).matchedCount).toBe(1);
      expect(await db.collection('docs').findOne({ _id })).toEqual({ _id, v: 1 });
      expect(await db.collection('old_docs').findOne({ _id })).toEqual({ _id, v: 6 });
    });
  });

  it('when versioned updates of a document race with bulk updates of it, then neither undoes the other', async () => {
    // The proxy decides a versioned update on the document and then writes it by _id: a bulk
    // must never land between that check and that write.
    // Every success below moves v and n by one each, so a lost or misapplied write leaves v ≠ n.
    await withDatabase('mixed_writes', 16, async (db) => {
      const col = db.collection<RaceDoc>('race');
      await col.insertMany([1, 2, 3].map((id) => ({ _id: id, v: 0, n: 0 })));
      const versioned = versionedUpdates(col, 8, 40);
      const bulk = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 40; i++) {
          await col.bulkWrite(
            [3, 1, 2].map((id) => ({ updateOne: { filter: { _id: id }, update: { $inc: { v: 1, n: 1 } } } })),
            { ordered: false },
          );
        }
      });
      const [applied] = await Promise.all([versioned, ...bulk]);
      const bulkUpdates = 4 * 40;
      expect(await col.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, v: applied + bulkUpdates, n: applied + bulkUpdates },
        { _id: 2, v: bulkUpdates, n: bulkUpdates },
        { _id: 3, v: bulkUpdates, n: bulkUpdates },
      ]);
      expect(applied).toBeGreaterThan(0);
    });
  });

  it('when a document written by a versioned $set is then written another way, then the next versioned update sees that write', async () => {
    // The proxy decides a versioned update's filter itself before it lets the write through: it
    // must decide it on the document as every kind of write left it, or an update would be let
    // through on a version that is no longer there.
    type Doc = { _id: mongoose.mongo.ObjectId; v: number; tag: string };
    await withDatabase('other_writes', 4, async (db) => {
      const col = db.collection<Doc>('docs');
      const otherWrites: Record<string, (_id: mongoose.mongo.ObjectId) => Promise<unknown>> = {
        '$inc by _id': (_id) => col.updateOne({ _id }, { $inc: { v: 9 } }),
        'a replacement': (_id) => col.replaceOne({ _id }, { v: 10, tag: 'a' }),
        findOneAndUpdate: (_id) => col.findOneAndUpdate({ _id }, { $set: { v: 10 } }),
        'updateMany by another field': () => col.updateMany({ tag: 'a' }, { $set: { v: 10 } }),
        'a bulk of statements by _id': (_id) =>
          col.bulkWrite([
            { updateOne: { filter: { _id }, update: { $set: { v: 10 } } } },
            { updateOne: { filter: { _id: new mongoose.mongo.ObjectId() }, update: { $set: { v: 3 } } } },
          ]),
        'a delete, then an insert': async (_id) => {
          await col.deleteOne({ _id });
          await col.insertOne({ _id, v: 10, tag: 'a' });
        },
        'a versioned $set naming another field': (_id) => col.updateOne({ _id, tag: 'a' }, { $set: { v: 10 } }),
        'a drop, then a rename of another collection in its place': async (_id) => {
          await db.collection('source').insertOne({ _id, v: 10, tag: 'a' });
          await col.drop();
          await db.renameCollection('source', 'docs');
        },
      };
      for (const [how, write] of Object.entries(otherWrites)) {
        const _id = new mongoose.mongo.ObjectId();
        await col.insertOne({ _id, v: 0, tag: 'a' });
        expect((await col.updateOne({ _id, v: 0 }, { $set: { v: 1 } })).matchedCount).toBe(1);
        await write(_id);
        expect([how, (await col.updateOne({ _id, v: 1 }, { $set: { v: 2 } })).matchedCount]).toEqual([how, 0]);
        expect([how, (await col.updateOne({ _id, v: 10 }, { $set: { v: 11 } })).matchedCount]).toEqual([how, 1]);
        expect([how, await col.findOne({ _id }, { projection: { _id: 0, v: 1 } })]).toEqual([how, { v: 11 }]);
      }
    });
  });

  it('when a versioned $set fails, then the next versioned update is decided on the document as it is', async () => {
    await withDatabase('failed_set', 4, async (db) => {
      const col = db.collection<{ _id: number; v: number; tag: string }>('docs');
      await col.createIndex({ tag: 1 }, { unique: true });
      await col.insertMany([
        { _id: 1, v: 0, tag: 'a' },
        { _id: 2, v: 0, tag: 'b' },
      ]);
      expect((await col.updateOne({ _id: 1, v: 0 }, { $set: { v: 1 } })).matchedCount).toBe(1);
      await expect(col.updateOne({ _id: 1, v: 1 }, { $set: { v: 2, tag: 'b' } })).rejects.toThrow(/duplicate key|UNIQUE constraint failed/);
      expect((await col.updateOne({ _id: 1, v: 2 }, { $set: { v: 3 } })).matchedCount).toBe(0);
      expect((await col.updateOne({ _id: 1, v: 1 }, { $set: { v: 2 } })).matchedCount).toBe(1);
      expect(await col.findOne({ _id: 1 })).toEqual({ _id: 1, v: 2, tag: 'a' });
    });
  });

  it('when a bulk of versioned updates mixes current and stale versions, then exactly the current ones apply', async () => {
    await withDatabase('bulk_versioned', 4, async (db) => {
      const col = db.collection<{ _id: number; v: number }>('docs');
      await col.insertMany([1, 2, 3, 4, 5].map((_id) => ({ _id, v: 0 })));
      const versioned = (_id: number, v: number) => ({ updateOne: { filter: { _id, v }, update: { $set: { v: v + 1 } } } });
      const result = await col.bulkWrite(
        [
          versioned(1, 0),
          versioned(2, 5),
          versioned(3, 0),
          versioned(9, 0),
          { updateOne: { filter: { _id: 5 }, update: { $set: { v: 7 } } } },
        ],
        { ordered: false },
      );
      expect(result.matchedCount).toBe(3);
      expect(await col.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, v: 1 },
        { _id: 2, v: 0 },
        { _id: 3, v: 1 },
        { _id: 4, v: 0 },
        { _id: 5, v: 7 },
      ]);
      // none current: nothing sent, nothing matched
      expect((await col.bulkWrite([versioned(1, 0), versioned(3, 0)])).matchedCount).toBe(0);
      // and the next versions go on from what the bulk wrote
      expect((await col.bulkWrite([versioned(1, 1), versioned(3, 1)])).matchedCount).toBe(2);
      expect(await col.find({ _id: { $in: [1, 3] } }).toArray()).toEqual([
        { _id: 1, v: 2 },
        { _id: 3, v: 2 },
      ]);
    });
  });

  it('when a statement of a versioned bulk fails, then its error names its place in the bulk the client sent', async () => {
    await withDatabase('bulk_errors', 4, async (db) => {
      const col = db.collection<{ _id: number; v: number }>('docs');
      await col.insertMany([1, 2, 3].map((_id) => ({ _id, v: 0 })));
      const stale = { updateOne: { filter: { _id: 1, v: 5 }, update: { $set: { v: 6 } } } };
      const failing = { updateOne: { filter: { _id: 2, v: 0 }, update: { $set: { _id: 20 } } } };
      const fine = { updateOne: { filter: { _id: 3, v: 0 }, update: { $set: { v: 1 } } } };
      // Ordered: the bulk stops at the error, as MongoDB's does (FerretDB stops there either way).
      const error = await col.bulkWrite([stale, failing, fine], { ordered: true }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(mongoose.mongo.MongoBulkWriteError);
      const bulkError = error as InstanceType<typeof mongoose.mongo.MongoBulkWriteError>;
      expect(bulkError.writeErrors).toEqual([expect.objectContaining({ index: 1, code: 66 })]);
      expect(bulkError.result.matchedCount).toBe(0);
      expect(await col.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, v: 0 },
        { _id: 2, v: 0 },
        { _id: 3, v: 0 },
      ]);
    });
  });

  it('when versioned bulks race with versioned updates of the same documents, then no update is lost', async () => {
    await withDatabase('bulk_race', 16, async (db) => {
      const col = db.collection<RaceDoc>('race');
      await col.insertMany([1, 2].map((id) => ({ _id: id, v: 0, n: 0 })));
      const singles = Promise.all([1, 2].map((id) => versionedUpdates(col, 4, 30, { id, plainSet: true })));
      const bulks = Array.from({ length: 4 }, async () => {
        let matched = 0;
        for (let i = 0; i < 30; i++) {
          const docs = await col.find().toArray();
          const result = await col.bulkWrite(
            docs.map((d) => ({ updateOne: { filter: { _id: d._id, v: d.v }, update: { $set: { v: d.v + 1, n: d.n + 1 } } } })),
            { ordered: false },
          );
          matched += result.matchedCount;
        }
        return matched;
      });
      const [singleApplied, ...bulkApplied] = await Promise.all([singles, ...bulks]);
      const docs = await col.find().sort({ _id: 1 }).toArray();
      for (const d of docs) expect(d.v).toBe(d.n);
      const total = singleApplied.reduce((a, b) => a + b, 0) + bulkApplied.reduce((a, b) => a + b, 0);
      expect(docs[0].v + docs[1].v).toBe(total);
      expect(bulkApplied.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });
  });

  it('when versioned $set updates of a document race with bulk updates of it, then neither undoes the other', async () => {
    // As above, with both fields written by $set (the shape of a replica's update).
    await withDatabase('set_race', 16, async (db) => {
      const col = db.collection<RaceDoc>('race');
      await col.insertMany([1, 2].map((id) => ({ _id: id, v: 0, n: 0 })));
      const versioned = versionedUpdates(col, 8, 40, { plainSet: true });
      const bulk = Array.from({ length: 2 }, async () => {
        for (let i = 0; i < 40; i++) {
          await col.bulkWrite(
            [2, 1].map((id) => ({ updateOne: { filter: { _id: id }, update: { $inc: { v: 1, n: 1 } } } })),
            { ordered: false },
          );
        }
      });
      const [applied] = await Promise.all([versioned, ...bulk]);
      expect(await col.findOne({ _id: 1 })).toEqual({ _id: 1, v: applied + 80, n: applied + 80 });
      expect(applied).toBeGreaterThan(0);
    });
  });

  it('when FERRETDB_DEBUG_ADDR names a loopback address, then it serves the goroutine dump there, and it refuses any other address', async () => {
    const run = async (debugAddr: string) => {
      const [port, dir] = [await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-launcher-debug-'))];
      const child = spawn(chooseMongo().binary!, ['-listen', `127.0.0.1:${port}`, '-dir', dir], {
        env: { ...process.env, FERRETDB_DEBUG_ADDR: debugAddr },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { port, child, exited, stderr: () => stderr, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    };

    const debugPort = await freePort();
    const good = await run(`127.0.0.1:${debugPort}`);
    try {
      await waitForPort(good.port);
      await waitForPort(debugPort);
      const dump = await (await fetch(`http://127.0.0.1:${debugPort}/debug/pprof/goroutine?debug=2`)).text();
      expect(dump).toMatch(/goroutine \d+ \[/);
      expect(dump).toContain('serveWithWriteLocks');
    } finally {
      good.child.kill('SIGTERM');
      await good.exited;
      good.cleanup();
    }

    const bad = await run('0.0.0.0:6060');
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr()).toMatch(/must be a loopback host:port/);
    bad.cleanup();
  });
});
