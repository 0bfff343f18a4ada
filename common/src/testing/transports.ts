import { connect as stanConnect, type Message } from 'node-nats-streaming';
import { durableName, JetStreamBus } from '../bus/jetstream-bus';
import { StanBus, stanClientId } from '../bus/stan-bus';
import type { Bus, DeadLetter } from '../bus/types';
import { startNatsServer, type NatsServerHandle } from './nats-server';
import { readStream } from './stream-reader';
import { stanChannel, startStanServer, type StanServerHandle } from './stan-server';

export type TransportName = 'jetstream' | 'nats-streaming';

/** A bus the tests own: closed by them. */
export type TestBus = Bus & { close(): Promise<void>; isConnected(): boolean };

/**
 * One real server of a transport and what the contract tests need to look at it from outside the
 * bus under test: what a channel stores, what was dead-lettered, what is still unacknowledged.
 */
export interface TestTransport {
  readonly name: TransportName;
  /** The server de-duplicates publications by message id (JetStream does, NATS Streaming does not). */
  readonly dedupes: boolean;
  readonly url: string;
  connect(options?: { name?: string; maxDeliver?: number; ackWaitMs?: number }): Promise<TestBus>;
  /** Sends a payload as is, as no publisher would. */
  publishRaw(subject: string, payload: string): Promise<void>;
  /** Every message stored on a subject, parsed, in order. */
  read<T = unknown>(subject: string): Promise<T[]>;
  readDeadLetters(group: string): Promise<DeadLetter[]>;
  /** Messages delivered to a group's durable subscription and not yet acknowledged. */
  unacked(group: string, subject: string): Promise<number>;
  /** Empties the server: no messages, no durables (between tests). */
  reset(): Promise<void>;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  destroy(): Promise<void>;
}

export const TRANSPORTS: TransportName[] = ['jetstream', 'nats-streaming'];

export async function startTransport(name: TransportName): Promise<TestTransport> {
  return name === 'jetstream' ? startJetStream() : startStan();
}

async function startJetStream(): Promise<TestTransport> {
  const server: NatsServerHandle = await startNatsServer();
  let admin: JetStreamBus | undefined;
  const getAdmin = async () => (admin ??= await JetStreamBus.connect({ servers: server.url, name: 'test-admin' }));
  return {
    name: 'jetstream',
    dedupes: true,
    url: server.url,
    connect: (options = {}) => JetStreamBus.connect({ servers: server.url, name: options.name ?? 'test', ...options }),
    publishRaw: async (subject, payload) => void (await (await getAdmin()).connection.publish(subject, payload)),
    read: async <T>(subject: string) => (await readStream<T>(await getAdmin(), { subject })).map((m) => m.data),
    readDeadLetters: async (group) => {
      const bus = await getAdmin();
      return (await readStream<DeadLetter>(bus, { stream: bus.deadLetterStreamName, subject: `deadletter.${group}` })).map((m) => m.data);
    },
    unacked: async (group, subject) => {
      const bus = await getAdmin();
      return (await bus.manager.consumers.info(bus.streamName, durableName(group, subject))).num_ack_pending;
    },
    reset: async () => {
      const bus = await getAdmin();
      await bus.manager.streams.purge(bus.streamName);
      for (const c of await bus.manager.consumers.list(bus.streamName).next()) await bus.manager.consumers.delete(bus.streamName, c.name);
    },
    stopServer: () => server.stop(),
    startServer: () => server.start(),
    destroy: async () => {
      await admin?.close();
      await server.destroy();
    },
  };
}

async function startStan(): Promise<TestTransport> {
  const server: StanServerHandle = await startStanServer();
  const read = <T>(subject: string) => readStanChannel<T>(server, subject);
  return {
    name: 'nats-streaming',
    dedupes: false,
    url: server.url,
    connect: (options = {}) =>
      StanBus.connect({
        servers: server.url,
        clusterId: server.clusterId,
        name: options.name ?? 'test',
        pingIntervalMs: 1_000,
        maxPingsOut: 3,
        ...options,
      }),
    publishRaw: async (subject, payload) => {
      const bus = await StanBus.connect({ servers: server.url, clusterId: server.clusterId, name: 'test-raw' });
      try {
        await bus.publishRaw(subject, payload);
      } finally {
        await bus.close();
      }
    },
    read,
    readDeadLetters: (group) => read<DeadLetter>(`deadletter.${group}`),
    unacked: async (group, subject) => {
      const channel = await stanChannel(server.monitorUrl, subject);
      const queue = `${durableName(group, subject)}:${group}`;
      return (channel?.subscriptions ?? []).filter((s) => s.queue_name === queue).reduce((n, s) => n + s.pending_count, 0);
    },
    reset: () => server.reset(),
    stopServer: () => server.stop(),
    startServer: () => server.start(),
    destroy: () => server.destroy(),
  };
}

/** Every message of a NATS Streaming channel, read from the first with a subscription of its own. */
export async function readStanChannel<T>(server: StanServerHandle, subject: string): Promise<T[]> {
  const channel = await stanChannel(server.monitorUrl, subject);
  if (!channel || channel.msgs === 0) return [];
  const stan = stanConnect(server.clusterId, stanClientId('test-reader'), { url: server.url });
  try {
    await new Promise<void>((resolve, reject) => {
      stan.once('connect', () => resolve());
      stan.once('error', reject);
    });
    const out: T[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = stan.subscribe(subject, stan.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(1024));
      const timer = setTimeout(() => reject(new Error(`reading ${subject}: ${out.length} of ${channel.msgs} messages`)), 10_000);
      sub.on('error', reject);
      sub.on('message', (msg: Message) => {
        out.push(JSON.parse(String(msg.getData())) as T);
        if (msg.getSequence() >= channel.last_seq) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve();
        }
      });
    });
    return out;
  } finally {
    await new Promise<void>((resolve) => {
      stan.once('close', () => resolve());
      stan.close();
      setTimeout(resolve, 2_000).unref();
    });
  }
}
