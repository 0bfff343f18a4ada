import { startNatsServer, waitFor, type NatsServerHandle } from '../testing';
import { Subjects } from '../events/subjects';
import { ConsumerBehindStreamError, durableName, JetStreamBus, STREAM_LIMITS } from './jetstream-bus';

/**
 * Stream limits (real nats-server): the streams are created with them, an older stream without
 * them gets them, and a durable consumer that fell further behind than the stream keeps refuses
 * to start instead of building state with a hole in it.
 */
describe('stream limits', () => {
  let nats: NatsServerHandle;
  const buses: JetStreamBus[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await nats.destroy();
  });
  const connect = async (options: Partial<Parameters<typeof JetStreamBus.connect>[0]> = {}) => {
    const bus = await JetStreamBus.connect({ servers: nats.url, name: 'limits-test', ...options });
    buses.push(bus);
    return bus;
  };

  it('are set on the event and dead-letter streams, also on streams made before them', async () => {
    const bus = await connect();
    await bus.manager.streams.update(bus.streamName, { max_age: 0, max_bytes: -1 });
    await connect();
    const events = await bus.manager.streams.info(bus.streamName);
    const dead = await bus.manager.streams.info(bus.deadLetterStreamName);
    expect([events.config.max_age / 1e6, events.config.max_bytes]).toEqual([STREAM_LIMITS.events.maxAgeMs, STREAM_LIMITS.events.maxBytes]);
    expect([dead.config.max_age / 1e6, dead.config.max_bytes]).toEqual([
      STREAM_LIMITS.deadLetters.maxAgeMs,
      STREAM_LIMITS.deadLetters.maxBytes,
    ]);
  });

  it('when a consumer falls further behind than the stream keeps, then it refuses to start and says why; one that kept up starts', async () => {
    // The event stream, made to keep events for one second.
    const bus = await connect({ duplicateWindowMs: 500, limits: { maxAgeMs: 1000, maxBytes: 1024 * 1024 } });
    const seen: string[] = [];
    const subscribe = (group: string) =>
      bus.consume({ subject: Subjects.TicketCreated, group, concurrency: 1 }, async (d) => {
        seen.push(`${group}:${d.payload}`);
        d.ack();
      });
    const behind = await subscribe('behind');
    const keptUp = await subscribe('kept-up');
    await bus.publish(Subjects.TicketCreated, { n: 1 }, 'limits-1');
    await waitFor(() => seen.length === 2);
    await behind.close();

    // While "behind" is away, two more events come and go (they expire after a second).
    await bus.publish(Subjects.TicketCreated, { n: 2 }, 'limits-2');
    await bus.publish(Subjects.TicketCreated, { n: 3 }, 'limits-3');
    await waitFor(() => seen.length === 4);
    await keptUp.close();
    await waitFor(async () => (await bus.manager.streams.info(bus.streamName)).state.messages === 0, {
      timeoutMs: 15_000,
      what: 'events to expire',
    });

    const refused = subscribe('behind');
    await expect(refused).rejects.toBeInstanceOf(ConsumerBehindStreamError);
    await expect(refused).rejects.toThrow(
      new RegExp(`${durableName('behind', Subjects.TicketCreated)} received the stream up to message 1, but the stream now starts at 4`),
    );
    // The one that received everything lost nothing: it starts.
    const again = await subscribe('kept-up');
    await again.close();
  });
});
