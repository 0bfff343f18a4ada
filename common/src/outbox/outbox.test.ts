import mongoose, { Types } from 'mongoose';
import { OutboxRelay, recordEvent } from '.';
import { idleSweepDelay } from './sweep-schedule';
import { Subjects } from '../events/subjects';
import type { TicketEventData, TicketUpdatedEvent } from '../events/contracts';
import { startTransport, TRANSPORTS, type TestBus, type TestTransport } from '../testing/transports';
import { testMongoUrl, waitFor } from '../testing/helpers';
import { itemEventData, outboxItemModel, type OutboxItem } from '../testing/outbox-items';

type Item = OutboxItem;
const Item = outboxItemModel('OutboxItem');
const eventOf = itemEventData;

/** Saves a change together with its event, as a route does. */
async function change(doc: mongoose.HydratedDocument<Item>, price: number) {
  doc.price = price;
  recordEvent<TicketUpdatedEvent>(doc, Subjects.TicketUpdated, (v) => eventOf(doc, v));
  await doc.save();
  return doc;
}

/**
 * Watches the commands that remove published events (updates with `$pullAll`): `cleanups` gets
 * the number of statements of each, until `stop()`.
 */
function watchCleanups() {
  const cleanups: number[] = [];
  const count = (e: { commandName: string; command: { updates?: { u?: { $pullAll?: unknown } }[] } }) => {
    if (e.commandName === 'update' && e.command.updates?.some((u) => u.u?.$pullAll)) cleanups.push(e.command.updates.length);
  };
  const client = mongoose.connection.getClient();
  client.on('commandStarted', count);
  return { cleanups, stop: () => void client.off('commandStarted', count) };
}

/** `count` new records stored at once, each with its event waiting in its outbox. */
function insertWithEvents(count: number, label: string) {
  return Item.insertMany(
    Array.from({ length: count }, (_, i) => {
      const doc = new Item({ title: `${label}-${i}`, price: 1 });
      recordEvent<TicketUpdatedEvent>(doc, Subjects.TicketUpdated, (v) => eventOf(doc, v));
      return doc;
    }),
  );
}

describe.each(TRANSPORTS)('transactional outbox on %s (real MongoDB-protocol server and event server)', (transportName) => {
  let transport: TestTransport;
  let bus: TestBus;
  let relay: OutboxRelay;

  beforeAll(async () => {
    await mongoose.connect(testMongoUrl('outbox'), { monitorCommands: true });
    transport = await startTransport(transportName);
    bus = await transport.connect({ name: 'outbox-test' });
  });
  beforeEach(() => {
    relay = new OutboxRelay(Item, bus, { sweepIntervalMs: 100 });
  });
  afterEach(async () => {
    await relay.stop();
  });
  afterAll(async () => {
    await bus.close();
    await transport.destroy();
    await mongoose.disconnect();
  });

  const published = async (id: string) => (await transport.read<TicketEventData>(Subjects.TicketUpdated)).filter((e) => e.id === id);

  it('when a change is saved with its event, then the event carries the saved version and is removed once published', async () => {
    const doc = await change(new Item({ title: 'gig', price: 5 }), 5);
    await change(doc, 10);
    expect(doc.version).toBe(1);
    expect(doc.outbox.map((e) => JSON.parse(e.payload).version)).toEqual([0, 1]);
    await relay.dispatch(doc);
    expect((await published(doc.id)).map((e) => [e.version, e.price])).toEqual([
      [0, 5],
      [1, 10],
    ]);
    await waitFor(async () => (await Item.findById(doc.id).lean())!.outbox.length === 0, { what: 'the outbox emptied' });
  });

  it('when the bus is down at write time, then the events wait in the record and are published in order once it returns', async () => {
    const doc = await change(new Item({ title: 'festival', price: 5 }), 5);
    await transport.stopServer();
    await change(doc, 10);
    await change(doc, 15);
    await relay.dispatch(doc); // fails: nothing is lost, nothing is thrown
    expect((await Item.findById(doc.id).lean())!.outbox).toHaveLength(3);
    // what operators see (outbox_events_waiting, publish failures)
    expect(relay.waiting().events).toBe(3);
    expect(relay.publishFailures).toBeGreaterThan(0);
    await transport.startServer();
    relay.start();
    const events = await waitFor(
      async () => {
        const all = await published(doc.id);
        return all.length === 3 ? all : null;
      },
      { timeoutMs: 20_000 },
    );
    expect(events.map((e) => e.version)).toEqual([0, 1, 2]);
    expect(events.map((e) => e.price)).toEqual([5, 10, 15]);
    await waitFor(async () => (await Item.findById(doc.id).lean())!.outbox.length === 0);
    expect(relay.waiting()).toEqual({ events: 0, oldestMs: 0 });
  }, 40_000);

  it('when a process died after writing but before publishing, then a new relay publishes what it left', async () => {
    const orphan = await change(new Item({ _id: new Types.ObjectId(), title: 'orphan', price: 7 }), 7);
    relay.start();
    await waitFor(async () => (await published(orphan.id)).length === 1);
    await waitFor(async () => (await Item.findById(orphan.id).lean())!.outbox.length === 0);
  });

  it('when the same record is dispatched by two relays at once, then each version is stored in order (once where the server de-duplicates)', async () => {
    const doc = await change(new Item({ title: 'race', price: 1 }), 1);
    for (let price = 2; price <= 6; price++) await change(doc, price);
    const other = new OutboxRelay(Item, bus);
    await Promise.all([relay.dispatch(doc), other.dispatch(doc), relay.dispatch(doc)]);
    const versions = (await published(doc.id)).map((e) => e.version);
    // Without server-side de-duplication a version may be stored twice; the first of each is in order.
    expect(transport.dedupes ? versions : [...new Set(versions)]).toEqual([0, 1, 2, 3, 4, 5]);
    await other.stop();
  });

  it('when records change again and again, then their published events are removed in a few batched writes, not one per event', async () => {
    const { cleanups, stop } = watchCleanups();
    try {
      const docs = await Promise.all(Array.from({ length: 5 }, (_, i) => change(new Item({ title: `batch-${i}`, price: 0 }), 0)));
      for (let price = 1; price <= 4; price++) {
        for (const doc of docs) {
          await change(doc, price);
          await relay.dispatch(doc);
        }
      }
      await waitFor(
        async () => (await Item.find({ _id: { $in: docs.map((d) => d._id) }, 'outbox.0': { $exists: true } }).lean()).length === 0,
        {
          what: 'every outbox emptied',
        },
      );
      for (const doc of docs) expect((await published(doc.id)).map((e) => e.version)).toEqual([0, 1, 2, 3, 4]);
      // 25 events published; one write per event would be 25 single-statement updates
      expect(cleanups.length).toBeLessThanOrEqual(3);
      expect(cleanups.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10);
    } finally {
      stop();
    }
  });

  it('when hundreds of records wait for clean-up at once, then they are removed in small commands and the database keeps answering', async () => {
    // An update command of 100 statements or more never finishes on FerretDB 1.24 (see
    // CLEANUP_STATEMENTS) and stops every other client with it.
    const { cleanups, stop } = watchCleanups();
    try {
      const docs = await insertWithEvents(250, 'many');
      await Promise.all(docs.map((d) => relay.dispatch(d)));
      await relay.stop();
      expect(await Item.countDocuments({ _id: { $in: docs.map((d) => d._id) }, 'outbox.0': { $exists: true } })).toBe(0);
      expect(Math.max(...cleanups)).toBeLessThanOrEqual(20);
      expect(cleanups.reduce((a, b) => a + b, 0)).toBe(250);
    } finally {
      stop();
    }
  });

  it('when a write stores the outbox without the published events, then the relay keeps the unpublished ones and drops their clean-up', async () => {
    const { cleanups, stop } = watchCleanups();
    try {
      const doc = await change(new Item({ title: 'rewrite', price: 1 }), 1);
      await relay.dispatch(doc); // v0 published, its removal queued
      await change(doc, 2); // v1 stored, not published yet
      const [v0, v1] = doc.outbox;
      expect(relay.unpublished(doc.id, doc.outbox)).toEqual([v1]);
      // The writer stores only what is unpublished (as `storeAndDispatch` has it do), then tells the relay.
      await Item.updateOne({ _id: doc._id }, { $set: { outbox: [v1] } });
      relay.forget(doc.id, [v0]);
      await relay.stop();
      expect(cleanups).toEqual([]);
      expect((await Item.findById(doc.id).lean())!.outbox.map((e) => e.msgId)).toEqual([v1.msgId]);
    } finally {
      stop();
    }
  });

  it('when a record is written again sooner than half the clean-up delay, then its published events never need a removal of their own', async () => {
    // A write every 50 ms or so against a delay of 2 s: a pause of the machine of up to a second
    // between two writes still leaves no record due.
    relay = new OutboxRelay(Item, bus, { sweepIntervalMs: 100, cleanupDelayMs: 2000 });
    const { cleanups, stop } = watchCleanups();
    try {
      const doc = new Item({ title: 'busy', price: 0 });
      const started = performance.now();
      // writes over 2.5 s, each dropping the events published since the one before
      for (let price = 0; performance.now() - started < 2500; price++) {
        doc.price = price;
        recordEvent<TicketUpdatedEvent>(doc, Subjects.TicketUpdated, (v) => eventOf(doc, v));
        await relay.saveAndDispatch(doc);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(cleanups).toEqual([]);

      // Once the writes stop, the last event is removed by one write after the delay.
      await waitFor(async () => (await Item.findById(doc._id).lean())!.outbox.length === 0, { what: 'the outbox emptied' });
      expect(cleanups).toEqual([1]);
      const versions = (await published(doc.id)).map((e) => e.version);
      expect(versions).toEqual(Array.from({ length: doc.version + 1 }, (_, v) => v));
    } finally {
      stop();
      await relay.stop();
    }
  });

  it('when removals cannot keep up with the database, then publication does not wait for them', async () => {
    relay = new OutboxRelay(Item, bus, { sweepIntervalMs: 100, cleanupDelayMs: 50 });
    // Every removal is held back until the end; the records keep changing meanwhile.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const bulkWrite = Item.bulkWrite.bind(Item);
    const spy = jest.spyOn(Item, 'bulkWrite').mockImplementation((async (...args: Parameters<typeof Item.bulkWrite>) => {
      await held;
      return bulkWrite(...args);
    }) as typeof Item.bulkWrite);
    try {
      const docs = await insertWithEvents(50, 'held');
      // Once they have waited, a removal starts (and is held).
      await Promise.all(docs.map((d) => relay.dispatch(d)));
      await waitFor(() => spy.mock.calls.length > 0, { what: 'a removal started' });
      const last = docs[docs.length - 1];
      await change(last, 2);
      await relay.dispatch(last);
      expect((await published(last.id)).map((e) => e.version)).toEqual([0, 1]);
    } finally {
      release();
      await relay.stop();
      spy.mockRestore();
    }
  }, 30_000);

  it('when records wait long for removal, then a sweep does not publish their events again', async () => {
    relay = new OutboxRelay(Item, bus, { cleanupDelayMs: 60_000, rememberPublished: 2 });
    const docs = await Promise.all(Array.from({ length: 5 }, (_, i) => change(new Item({ title: `waiting-${i}`, price: 0 }), 0)));
    const publish = jest.spyOn(bus, 'publish'); // observes only: the calls go through to the server
    const publications = () => publish.mock.calls.filter(([, data]) => docs.some((d) => d.id === (data as TicketEventData).id)).length;
    try {
      await Promise.all(docs.map((d) => relay.dispatch(d)));
      expect(publications()).toBe(5);
      await relay.sweep(); // finds all five, their events still in the records
      expect(publications()).toBe(5);
    } finally {
      publish.mockRestore();
    }
  });

  it('when records waiting for removal fill a sweep, then the next sweeps go on past them to what is left', async () => {
    await Item.deleteMany({});
    relay = new OutboxRelay(Item, bus, { cleanupDelayMs: 60_000, sweepBatch: 3 });
    const waiting = await Promise.all(Array.from({ length: 4 }, (_, i) => change(new Item({ title: `paged-${i}`, price: 0 }), 0)));
    await Promise.all(waiting.map((d) => relay.dispatch(d))); // published, removal pending
    const orphan = await change(new Item({ title: 'left by a dead process', price: 0 }), 0);
    for (let i = 0; i < 5 && (await published(orphan.id)).length === 0; i++) await relay.sweep();
    expect((await published(orphan.id)).map((e) => e.version)).toEqual([0]);
  });

  it('when the relay stops, then what it published is removed before it returns', async () => {
    const doc = await change(new Item({ title: 'stopping', price: 1 }), 1);
    await relay.dispatch(doc);
    await relay.stop();
    expect((await Item.findById(doc.id).lean())!.outbox).toEqual([]);
  });
});

describe('idle sweeps', () => {
  it('when a sweep is quick, then the next comes after the configured interval', () => {
    expect(idleSweepDelay(20)).toBe(15_000);
    expect(idleSweepDelay(20, 5_000)).toBe(5_000);
  });

  it('when a sweep is slow (a big collection), then the next waits 50 times as long: at most 2% of the time goes to idle sweeps', () => {
    expect(idleSweepDelay(2_000)).toBe(100_000);
    expect(idleSweepDelay(2_000, 5_000)).toBe(100_000);
  });
});
