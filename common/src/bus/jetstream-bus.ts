import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { ALL_SUBJECTS } from '../events/subjects';
import { silentLogger, type Logger } from '../logger';
import { SameTurn, runEach } from './same-turn';
import type { Bus, ConsumeSpec, ConsumerState, DeadLetter, Delivery, Subscription } from './types';

export interface JetStreamBusOptions {
  /** One URL or several (comma-separated or an array) of the same cluster. */
  servers: string | string[];
  /** Client name shown by the server's monitoring: make it unique per process (the pod name). */
  name: string;
  /** NATS user and password, when the server requires them. */
  user?: string;
  pass?: string;
  /** The stream holding the four event subjects. */
  stream?: string;
  /** The stream holding dead letters, under `deadletter.<group>`. */
  deadLetterStream?: string;
  /** Stream replicas: 1 for one server, 3 for a three-node cluster. */
  replicas?: number;
  /** How long a delivered message may stay unacknowledged before the server redelivers it. */
  ackWaitMs?: number;
  /** Deliveries of one message before it is dead-lettered. */
  maxDeliver?: number;
  /** Window in which the server drops a re-published message id. */
  duplicateWindowMs?: number;
  /** How long and how much the event stream keeps (see STREAM_LIMITS). */
  limits?: StreamLimits;
  /** The same for the dead-letter stream. */
  deadLetterLimits?: StreamLimits;
  logger?: Logger;
}

export interface StreamLimits {
  maxAgeMs: number;
  maxBytes: number;
}

/**
 * What the streams keep (per replica, on every node that holds one; together within the
 * `max_file_store` of infra/k8s/nats.yaml, which an infra test checks). The oldest messages go
 * first. A consumer that falls further behind than this has lost events for good:
 * {@link ConsumerBehindStreamError}, and docs/kubernetes.md, "Stream limits".
 */
export const STREAM_LIMITS: { events: StreamLimits; deadLetters: StreamLimits } = {
  events: { maxAgeMs: 14 * 24 * 3600_000, maxBytes: 512 * 1024 * 1024 },
  // Dead letters wait for a person: kept longer, and they are few.
  deadLetters: { maxAgeMs: 30 * 24 * 3600_000, maxBytes: 64 * 1024 * 1024 },
};

/**
 * A durable consumer's next event is no longer in the stream: the stream's limits removed events
 * it had not received yet, so the state built from it (a replica) misses them. Consuming on would
 * leave that state wrong without a trace, so the consumer refuses to start; the replica must be
 * rebuilt (docs/kubernetes.md, "Stream limits").
 */
export class ConsumerBehindStreamError extends Error {
  override readonly name = 'ConsumerBehindStreamError';
  constructor(
    readonly durable: string,
    readonly deliveredUpTo: number,
    readonly firstInStream: number,
  ) {
    super(
      `consumer ${durable} received the stream up to message ${deliveredUpTo}, but the stream now starts at ${firstInStream}: ` +
        `events it never received were removed by the stream's limits; rebuild its replica (docs/kubernetes.md, "Stream limits")`,
    );
  }
}

export const DEFAULT_STREAM = 'TICKETING';
const PULL_EXPIRES_MS = 5_000;
export const DEFAULT_DEAD_LETTER_STREAM = 'TICKETING_DEADLETTER';

/** A durable consumer name derived from the queue group and the subject (names allow no ':'). */
export function durableName(group: string, subject: string): string {
  return `${group}__${subject}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** NATS JetStream behind the {@link Bus} interface. */
export class JetStreamBus implements Bus {
  readonly maxDeliver: number;
  private readonly subscriptions = new Set<Subscription>();
  /** The durable consumers this copy has consumed from, and their subjects. */
  private readonly consumed = new Map<string, string>();
  private connected = true;
  /** Publications and acks leave together, once per turn of the event loop (see SameTurn). */
  private readonly sameTurn: SameTurn<() => void>;

  private constructor(
    readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    readonly manager: JetStreamManager,
    private readonly options: Required<Omit<JetStreamBusOptions, 'servers' | 'name' | 'logger' | 'user' | 'pass'>>,
    private readonly logger: Logger,
  ) {
    this.maxDeliver = options.maxDeliver;
    this.sameTurn = new SameTurn(runEach((err) => this.logger.warn({ err }, 'bus: could not send')));
    void this.watchStatus();
  }

  /** Connects (waiting for the server if it is not up yet) and creates or updates the streams. */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const servers = Array.isArray(options.servers)
      ? options.servers
      : options.servers
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
    const connection = await connect({
      servers,
      name: options.name,
      user: options.user,
      pass: options.pass,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      timeout: 5000,
      // Otherwise every request (each publication waits for the server's ack through one) builds
      // an Error up front, only to give a later timeout the caller's stack. Our logs name the
      // operation and the event instead.
      noAsyncTraces: true,
    });
    const settings = {
      stream: options.stream ?? DEFAULT_STREAM,
      deadLetterStream: options.deadLetterStream ?? DEFAULT_DEAD_LETTER_STREAM,
      replicas: options.replicas ?? 1,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxDeliver: options.maxDeliver ?? 100,
      duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
      limits: options.limits ?? STREAM_LIMITS.events,
      deadLetterLimits: options.deadLetterLimits ?? STREAM_LIMITS.deadLetters,
    };
    const manager = await jetstreamManager(connection);
    const bus = new JetStreamBus(connection, jetstream(connection), manager, settings, options.logger ?? silentLogger);
    try {
      await bus.ensureStream({ name: settings.stream, subjects: [...ALL_SUBJECTS] }, settings.limits);
      await bus.ensureStream({ name: settings.deadLetterStream, subjects: ['deadletter.>'] }, settings.deadLetterLimits);
    } catch (err) {
      // Not left connected behind a caller that never got the bus to close.
      await connection.close().catch(() => undefined);
      throw err;
    }
    return bus;
  }

  /** True while the connection to the server is up (for readiness). */
  isConnected(): boolean {
    return this.connected && !this.connection.isClosed();
  }

  get streamName(): string {
    return this.options.stream;
  }

  get deadLetterStreamName(): string {
    return this.options.deadLetterStream;
  }

  async publish(subject: string, data: unknown, messageId: string, headers?: Record<string, string>): Promise<void> {
    const payload = JSON.stringify(data);
    const options = { msgID: messageId, ...(headers && { headers: toNatsHeaders(headers) }) };
    await new Promise<void>((resolve, reject) =>
      this.sameTurn.add(() => this.js.publish(subject, payload, options).then(() => resolve(), reject)),
    );
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    const record = { ...letter, deadAt: new Date().toISOString() };
    await this.js.publish(`deadletter.${letter.group}`, JSON.stringify(record), {
      msgID: `deadletter:${letter.group}:${letter.sequence}`,
    });
  }

  async consume(spec: ConsumeSpec, handle: (delivery: Delivery) => Promise<void>): Promise<Subscription> {
    const durable = durableName(spec.group, spec.subject);
    await this.ensureConsumer(durable, spec.subject);
    this.consumed.set(durable, spec.subject);
    const consumer = await this.js.consumers.get(this.options.stream, durable);
    // `delivered.stream_seq` is where the consumer has read up to (it moves past other subjects'
    // events too while it keeps up). A new consumer (0) is not checked: a replica started on a
    // stream that has already dropped events must be seeded from the owner (docs/kubernetes.md).
    const delivered = consumer.info(true).then((i) => i.delivered.stream_seq);
    const [deliveredUpTo, stream] = await Promise.all([delivered, this.manager.streams.info(this.options.stream)]);
    if (deliveredUpTo > 0 && deliveredUpTo + 1 < stream.state.first_seq) {
      throw new ConsumerBehindStreamError(durable, deliveredUpTo, stream.state.first_seq);
    }
    const messages = await consumer.consume({
      max_messages: Math.max(spec.concurrency * 2, 16),
      // A pull request lives on the consumer's leader. When a cluster node goes, the requests it
      // held are lost, and the client only notices two missed heartbeats later (half of
      // `expires` each): 30 s of silence with the default, about 5 s with this.
      expires: PULL_EXPIRES_MS,
    });
    const toDelivery = (msg: JsMsg): Delivery => ({
      subject: msg.subject,
      payload: msg.string(),
      deliveryCount: msg.info.deliveryCount,
      sequence: msg.info.streamSequence,
      headers: msg.headers && fromNatsHeaders(msg.headers),
      publishedAtMs: Number(msg.info.timestampNanos) / 1e6,
      ack: () => this.sameTurn.add(() => msg.ack()),
      retry: (delayMs) => msg.nak(delayMs),
      terminate: (reason) => msg.term(reason),
    });

    const inFlight = new Set<Promise<void>>();
    let slotFreed: (() => void) | undefined;
    const run = (msg: JsMsg) => {
      const task = handle(toDelivery(msg))
        .catch((err: unknown) => {
          // The listener settles every message itself; this is a last guard so that nothing
          // can become an unhandled rejection. The message will be redelivered after ack_wait.
          this.logger.error({ err, subject: msg.subject }, 'bus: handler escaped');
        })
        .finally(() => {
          inFlight.delete(task);
          slotFreed?.();
        });
      inFlight.add(task);
    };
    let closing = false;
    const pump = (async () => {
      for await (const msg of messages) {
        // Already pulled but not started: hand it straight back so another copy takes it now
        // rather than after ack_wait.
        if (closing) {
          msg.nak();
          continue;
        }
        while (inFlight.size >= spec.concurrency) {
          await new Promise<void>((resolve) => (slotFreed = resolve));
        }
        run(msg);
      }
    })().catch((err: unknown) => this.logger.error({ err, durable }, 'bus: consumer stopped'));

    const subscription: Subscription = {
      close: async () => {
        closing = true;
        this.subscriptions.delete(subscription);
        await messages.close();
        await pump;
        await Promise.allSettled([...inFlight]);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async consumerStates(): Promise<ConsumerState[]> {
    return Promise.all(
      [...this.consumed].map(async ([consumer, subject]) => {
        const info = await this.manager.consumers.info(this.options.stream, consumer);
        return { consumer, subject, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
      }),
    );
  }

  /** Stops every subscription (waiting for handlers in flight), then drains the connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    this.sameTurn.flush();
    if (!this.connection.isClosed()) {
      await this.connection.drain().catch(() => this.connection.close());
    }
  }

  private async ensureStream(config: Pick<StreamConfig, 'name' | 'subjects'>, limits: StreamLimits): Promise<void> {
    const wanted: Partial<StreamConfig> & { name: string } = {
      ...config,
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      storage: StorageType.File,
      num_replicas: this.options.replicas,
      duplicate_window: nanos(this.options.duplicateWindowMs),
    };
    // Several copies may start at once: whoever loses the race to create finds it and updates it.
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await this.manager.streams.info(config.name).catch((err: unknown) => {
          if (err instanceof JetStreamApiError && err.code === 10059) return null; // stream not found
          throw err;
        });
        if (!info) await this.manager.streams.add(wanted);
        else if (
          !sameSubjects(info.config.subjects, config.subjects) ||
          info.config.max_age !== wanted.max_age ||
          info.config.max_bytes !== wanted.max_bytes
        ) {
          await this.manager.streams.update(config.name, wanted);
        }
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(100 * attempt);
      }
    }
  }

  private async ensureConsumer(durable: string, subject: string): Promise<void> {
    const config = {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs),
      // The listener enforces the delivery limit itself so that it can dead-letter the message.
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        // Adding a consumer that exists with the same configuration is a no-op on the server.
        await this.manager.consumers.add(this.options.stream, config);
        return;
      } catch (err) {
        try {
          await this.manager.consumers.update(this.options.stream, durable, config);
          return;
        } catch {
          if (attempt >= 5) throw err;
          await sleep(100 * attempt);
        }
      }
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn('bus: disconnected');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.info('bus: reconnected');
      }
    }
  }
}

function toNatsHeaders(values: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(values)) h.set(key, value);
  return h;
}

function fromNatsHeaders(h: MsgHdrs): Record<string, string> {
  return Object.fromEntries(h.keys().map((key) => [key, h.get(key)]));
}

function sameSubjects(a: string[] | undefined, b: string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
