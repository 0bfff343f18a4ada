import { Types } from 'mongoose';
import { JetStreamBus } from './jetstream-bus';
import { BatchingListener, RecordingListener } from '../testing/test-listeners';
import { NotYetError } from './listener';
import { Subjects } from '../events/subjects';
import { createLogger } from '../logger';
import { eventMessageId, type TicketEventData } from '../events/contracts';
import { readStream } from '../testing/stream-reader';
import { waitFor } from '../testing/helpers';
import { startTransport, TRANSPORTS, type TestBus, type TestTransport } from '../testing/transports';

const buildTicketEvent = (overrides: Partial<TicketEventData> = {}): TicketEventData => ({
  id: new Types.ObjectId().toHexString(),
  version: 0,
  title: 'concert',
  price: 20,
  userId: 'user-1',
  ...overrides,
});

/** The bus contract and the Listener base, the same tests on each transport, with real servers. */
describe.each(TRANSPORTS)('bus and Listener base on %s (real server)', (transportName) => {
  let transport: TestTransport;
  let bus: TestBus;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    transport = await startTransport(transportName);
  });
  beforeEach(async () => {
    // a clean server per test: each test's events are its own
    await transport.reset();
    bus = await transport.connect({ name: 'test' });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await bus.close();
  });
  afterAll(async () => {
    await transport.destroy();
  });

  const publish = (data: TicketEventData) => bus.publish(Subjects.TicketCreated, data, eventMessageId(Subjects.TicketCreated, data));
  const listen = async <L extends RecordingListener>(listener: L): Promise<L> => {
    opened.push(listener);
    await listener.listen();
    return listener;
  };
  const readDeadLetters = (group: string) => transport.readDeadLetters(group);
  const unacked = (group: string) => transport.unacked(group, Subjects.TicketCreated);

  it('when a handler succeeds, then the event is acknowledged and not delivered again', async () => {
    const listener = await listen(new RecordingListener(bus, 'g-ack'));
    const event = buildTicketEvent();
    await publish(event);
    await waitFor(() => listener.handledEvents.length === 1);
    await waitFor(async () => (await unacked('g-ack')) === 0, { what: 'no unacknowledged message' });
    // A later event handled: a second delivery of the first would have come before it.
    const later = buildTicketEvent();
    await publish(later);
    await waitFor(() => listener.handledEvents.some((e) => e.id === later.id), { what: 'the later event' });
    expect(listener.handledEvents).toEqual([event, later]);
  });

  it('when a handler throws, then the event is redelivered later and processed once it succeeds, and the process stays up', async () => {
    let attempts = 0;
    const listener = await listen(
      new RecordingListener(bus, 'g-retry', async () => {
        attempts++;
        if (attempts < 3) throw new Error('database hiccup');
      }),
    );
    const event = buildTicketEvent();
    const started = Date.now();
    await publish(event);
    await waitFor(() => listener.handledEvents.length === 1, { timeoutMs: 15_000 });
    expect(attempts).toBe(3);
    // backoff, not a busy loop: two retries wait at least 100 ms + 200 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(listener.handledEvents[0]).toEqual(event);
    expect(listener.stats).toMatchObject({ handled: 1, applied: 1, duplicates: 0, retried: 2, deadLettered: 0 });
  });

  it('when a handler logs and fails once, then every line about the event names its subject, record id, version and sequence, and the handler knows when it was published', async () => {
    const lines: Record<string, unknown>[] = [];
    const published: number[] = [];
    let attempts = 0;
    const listener = await listen(
      new RecordingListener(
        bus,
        'g-log',
        async (_data, ctx) => {
          published.push(ctx.publishedAtMs);
          ctx.logger.info({ attempt: ++attempts }, 'handler: applying');
          if (attempts === 1) throw new Error('first try fails');
        },
        createLogger({}, 'debug', (line) => lines.push(JSON.parse(line))),
      ),
    );
    const event = buildTicketEvent({ version: 0 });
    const before = Date.now();
    await publish(event);
    await waitFor(() => listener.handledEvents.length === 1, { timeoutMs: 15_000 });
    expect(lines.map((l) => l.message)).toEqual(['handler: applying', 'listener: handler failed, retrying', 'handler: applying']);
    for (const line of lines) {
      expect(line).toMatchObject({ subject: Subjects.TicketCreated, recordId: event.id, version: 0, eventSeq: expect.any(Number) });
    }
    // the server's time of storing it, the same on both deliveries (one machine, one clock)
    expect(published).toHaveLength(2);
    expect(published[1]).toBe(published[0]);
    expect(published[0]).toBeGreaterThanOrEqual(before - 1);
    expect(published[0]).toBeLessThanOrEqual(Date.now());
  });

  it('when a handler says an event was a duplicate, then it is acked and counted apart from the applied ones', async () => {
    const listener = await listen(
      new RecordingListener(bus, 'g-outcome', async (data) => (data.title === 'again' ? 'duplicate' : undefined)),
    );
    await publish(buildTicketEvent());
    await publish(buildTicketEvent({ title: 'again' }));
    await waitFor(() => listener.handledEvents.length === 2);
    expect(listener.stats).toMatchObject({ handled: 2, applied: 1, duplicates: 1, retried: 0 });
  });

  it('when a payload is malformed, then it is dead-lettered with its reason and the next event is still processed', async () => {
    const listener = await listen(new RecordingListener(bus, 'g-dlq'));
    await bus.publish(Subjects.TicketCreated, { id: 'not-an-id', price: 'free' }, 'bad-1');
    await transport.publishRaw(Subjects.TicketCreated, '{ not json');
    const good = buildTicketEvent();
    await publish(good);
    await waitFor(() => listener.handledEvents.length === 1);
    const letters = await waitFor(async () => {
      const all = await readDeadLetters('g-dlq');
      return all.length === 2 ? all : null;
    });
    expect(listener.handledEvents).toEqual([good]);
    expect(letters[0].reason).toMatch(/id: must be a 24-hex-digit id/);
    expect(letters[0].reason).toMatch(/price/);
    expect(JSON.parse(letters[0].payload)).toEqual({ id: 'not-an-id', price: 'free' });
    expect(letters[1].reason).toMatch(/not valid JSON/);
    expect(letters[1].payload).toBe('{ not json');
  });

  it('when a handler keeps failing past the delivery limit, then the event is dead-lettered and the ones behind it go on', async () => {
    const strictBus = await transport.connect({ name: 'strict', maxDeliver: 3 });
    opened.push(strictBus);
    const poison = buildTicketEvent({ title: 'poison' });
    const listener = await listen(
      new RecordingListener(strictBus, 'g-limit', async (data) => {
        if (data.title === 'poison') throw new Error('cannot apply');
      }),
    );
    await publish(poison);
    const next = buildTicketEvent();
    await publish(next);
    await waitFor(() => listener.handledEvents.length === 1);
    expect(listener.handledEvents).toEqual([next]);
    const [letter] = await waitFor(
      async () => {
        const all = await readDeadLetters('g-limit');
        return all.length ? all : null;
      },
      { timeoutMs: 15_000 },
    );
    expect(letter.reason).toMatch(/delivery limit \(3\) reached: cannot apply/);
  });

  it('when two listeners share a queue group, then each of 1,000 events is handled exactly once across the two', async () => {
    const otherBus = await transport.connect({ name: 'copy-2' });
    opened.push(otherBus);
    const a = await listen(new RecordingListener(bus, 'g-shared'));
    const b = await listen(new RecordingListener(otherBus, 'g-shared'));
    const events = Array.from({ length: 1000 }, () => buildTicketEvent());
    for (let i = 0; i < events.length; i += 100) await Promise.all(events.slice(i, i + 100).map(publish));
    await waitFor(() => a.handledEvents.length + b.handledEvents.length >= 1000, { timeoutMs: 30_000 });
    // Every delivery acknowledged: none is in flight, and an acknowledged event is not delivered again.
    await waitFor(async () => (await unacked('g-shared')) === 0, { what: 'no unacknowledged message' });
    const ids = [...a.handledEvents, ...b.handledEvents].map((e) => e.id);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(a.handledEvents.length).toBeGreaterThan(0);
    expect(b.handledEvents.length).toBeGreaterThan(0);
  }, 60_000);

  it('when the same message id is published twice, then the server stores it once if it de-duplicates, twice otherwise', async () => {
    // NATS Streaming has no de-duplication: the version rules make the second copy harmless
    // (orders/src/tickets and the end-to-end tests prove it on that transport).
    const listener = await listen(new RecordingListener(bus, 'g-dedupe'));
    const event = buildTicketEvent();
    await publish(event);
    await publish(event);
    const copies = transport.dedupes ? 1 : 2;
    await waitFor(() => listener.handledEvents.length === copies);
    // A later event handled: any further copy, stored before it, would have been delivered first.
    const later = buildTicketEvent();
    await publish(later);
    await waitFor(() => listener.handledEvents.some((e) => e.id === later.id), { what: 'the later event' });
    expect(listener.handledEvents.filter((e) => e.id === event.id)).toEqual(Array.from({ length: copies }, () => event));
    expect(listener.handledEvents).toHaveLength(copies + 1);
    expect(await transport.read(Subjects.TicketCreated)).toHaveLength(copies + 1);
  });

  it('when a durable listener is stopped while events are published, then it receives them all when it restarts', async () => {
    const first = await listen(new RecordingListener(bus, 'g-durable'));
    await publish(buildTicketEvent());
    await waitFor(() => first.handledEvents.length === 1);
    await first.close();
    const missed = Array.from({ length: 20 }, () => buildTicketEvent());
    await Promise.all(missed.map(publish));
    const second = await listen(new RecordingListener(bus, 'g-durable'));
    await waitFor(() => second.handledEvents.length === 20);
    expect(second.handledEvents.map((e) => e.id).sort()).toEqual(missed.map((e) => e.id).sort());
  });

  it('when a listener starts for the first time, then it receives the events published before it existed', async () => {
    const earlier = [buildTicketEvent(), buildTicketEvent()];
    await Promise.all(earlier.map(publish));
    const listener = await listen(new RecordingListener(bus, 'g-late'));
    await waitFor(() => listener.handledEvents.length === 2);
    expect(listener.handledEvents.map((e) => e.id).sort()).toEqual(earlier.map((e) => e.id).sort());
  });

  it('when an event is retried, then its deliveries are counted 1, 2, 3', async () => {
    const counts: number[] = [];
    const listener = await listen(
      new RecordingListener(bus, 'g-count', async (_data, ctx) => {
        counts.push(ctx.deliveryCount);
        if (ctx.deliveryCount < 3) throw new NotYetError('not yet');
      }),
    );
    await publish(buildTicketEvent());
    await waitFor(() => listener.handledEvents.length === 1);
    expect(counts).toEqual([1, 2, 3]);
  });

  it('when a bus is closed, then its listeners leave, and a new copy of the group gets the events published meanwhile', async () => {
    const otherBus = await transport.connect({ name: 'restarted' });
    const first = await listen(new RecordingListener(otherBus, 'g-restart'));
    await publish(buildTicketEvent());
    await waitFor(() => first.handledEvents.length === 1);
    await otherBus.close();
    const missed = Array.from({ length: 10 }, () => buildTicketEvent());
    await Promise.all(missed.map(publish));
    const again = await transport.connect({ name: 'restarted' });
    opened.push(again);
    const second = await listen(new RecordingListener(again, 'g-restart'));
    await waitFor(() => second.handledEvents.length === 10);
    expect(second.handledEvents.map((e) => e.id).sort()).toEqual(missed.map((e) => e.id).sort());
  });

  it('when the server restarts between two events, then the listener gets the second and publishing works again', async () => {
    const listener = await listen(new RecordingListener(bus, 'g-server-restart'));
    await publish(buildTicketEvent());
    await waitFor(() => listener.handledEvents.length === 1);
    await transport.stopServer();
    await transport.startServer();
    const after = buildTicketEvent();
    // The first attempts may fail while the client reconnects; an outbox relay would try again the same way.
    await waitFor(() => publish(after).then(() => true), { timeoutMs: 20_000, what: 'a publication after the restart' });
    await waitFor(() => listener.handledEvents.some((e) => e.id === after.id), { timeoutMs: 20_000 });
  }, 45_000);

  it('when several copies start at once, then setting up subscriptions does not fail', async () => {
    const buses = await Promise.all(Array.from({ length: 4 }, (_, i) => transport.connect({ name: `start-${i}` })));
    opened.push(...buses);
    const listeners = buses.map((b) => new RecordingListener(b, 'g-race'));
    await Promise.all(listeners.map(listen));
    await publish(buildTicketEvent());
    await waitFor(() => listeners.reduce((n, l) => n + l.handledEvents.length, 0) === 1);
  });

  it('when a listener takes batches, then the events that arrive together go in one call, each acked on its own', async () => {
    const events = Array.from({ length: 40 }, () => buildTicketEvent());
    await Promise.all(events.map(publish));
    const listener = await listen(new BatchingListener(bus, 'g-batch', async (items) => items.map(() => ({ outcome: undefined }))));
    await waitFor(() => listener.handledEvents.length === 40);
    expect(Math.max(...listener.batchSizes)).toBeGreaterThan(1);
    expect(Math.max(...listener.batchSizes)).toBeLessThanOrEqual(16);
    expect(listener.handledEvents.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(listener.stats).toMatchObject({ handled: 40, applied: 40, retried: 0 });
    await waitFor(async () => (await unacked('g-batch')) === 0);
  });

  it('when one event of a batch is not applicable yet, then only it is retried; when a whole batch fails, then each of its events is', async () => {
    const events = Array.from({ length: 10 }, () => buildTicketEvent());
    const early = events[3].id;
    let batchesFailed = 0;
    const listener = await listen(
      new BatchingListener(bus, 'g-batch-retry', async (items) => {
        if (batchesFailed++ === 0) throw new Error('database hiccup');
        return items.map((item) =>
          item.data.id === early && item.context.deliveryCount < 3 ? { error: new NotYetError('not yet') } : { outcome: undefined },
        );
      }),
    );
    await Promise.all(events.map(publish));
    await waitFor(() => listener.handledEvents.length === 10, { timeoutMs: 15_000 });
    // Every delivery acknowledged: no retry is still to come.
    await waitFor(async () => (await unacked('g-batch-retry')) === 0, { what: 'no unacknowledged message' });
    expect(listener.handledEvents.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    const firstBatch = listener.batchSizes[0];
    // the failed batch's events once each, and the early event twice (deliveries 1 and 2)
    expect(listener.stats.retried).toBe(firstBatch + (firstBatch > 3 ? 1 : 2));
    expect(listener.stats.handled).toBe(10);
  });
});

/** What only JetStream offers or needs: its socket writes and its consumers' state. */
describe('JetStream bus specifics (real nats-server)', () => {
  let transport: TestTransport;
  let bus: JetStreamBus;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    transport = await startTransport('jetstream');
  });
  beforeEach(async () => {
    await transport.reset();
    bus = (await transport.connect({ name: 'test' })) as JetStreamBus;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await bus.close();
  });
  afterAll(async () => {
    await transport.destroy();
  });

  const publish = (data: TicketEventData) => bus.publish(Subjects.TicketCreated, data, eventMessageId(Subjects.TicketCreated, data));
  const listen = async <L extends RecordingListener>(listener: L): Promise<L> => {
    opened.push(listener);
    await listener.listen();
    return listener;
  };

  /** Counts the writes to the bus's socket while `run` runs; `run` can see what they carried. */
  const socketWrites = async (onBus: JetStreamBus, run: (sent: () => string) => Promise<void>): Promise<number> => {
    const socket = (onBus.connection as unknown as { protocol: { transport: { socket: { write: (...args: unknown[]) => boolean } } } })
      .protocol.transport.socket;
    const write = socket.write;
    let writes = 0;
    let text = '';
    socket.write = (...args: unknown[]) => {
      writes++;
      text += typeof args[0] === 'string' ? args[0] : Buffer.from(args[0] as Uint8Array).toString('latin1');
      return write.apply(socket, args);
    };
    try {
      await run(() => text);
    } finally {
      socket.write = write;
    }
    return writes;
  };
  /** Runs `work` for each item, each from a callback of its own, as requests and database replies do. */
  const fromSeparateCallbacks = <T>(items: T[], work: (item: T) => Promise<unknown>) =>
    Promise.all(items.map((item) => new Promise((resolve) => setImmediate(resolve)).then(() => work(item))));

  it('when 100 publications are made from separate callbacks of one turn, then they leave in a few writes, not one each', async () => {
    const events = Array.from({ length: 100 }, () => buildTicketEvent());
    const writes = await socketWrites(bus, () => fromSeparateCallbacks(events, publish).then(() => undefined));
    expect(writes).toBeLessThanOrEqual(5);
    expect(await readStream(bus, { subject: Subjects.TicketCreated })).toHaveLength(100);
  });

  it('when 100 handlers finish in separate callbacks, then their acks leave in a few writes, and every event is acked', async () => {
    const events = Array.from({ length: 100 }, () => buildTicketEvent());
    await Promise.all(events.map(publish));
    const listener = new RecordingListener(bus, 'g-acks', () => new Promise((resolve) => setImmediate(resolve)));
    const writes = await socketWrites(bus, async (sent) => {
      await listen(listener);
      await waitFor(() => listener.handledEvents.length === 100);
      // Each ack is a publication to the message's $JS.ACK reply subject.
      await waitFor(() => sent().split('PUB $JS.ACK.').length - 1 === 100, { what: 'the 100 acks written' });
    });
    // Pull requests and the consumer's set-up are writes too: a few of those, and far fewer than one per ack.
    expect(writes).toBeLessThanOrEqual(30);
    await waitFor(async () => (await bus.manager.consumers.info(bus.streamName, 'g-acks__ticket_created')).num_ack_pending === 0);
  });
});
