import { randomBytes } from 'node:crypto';
import { connect as stanConnect, type Message, type Stan, type Subscription as StanSubscription } from 'node-nats-streaming';
import { silentLogger, type Logger } from '../logger';
import { durableName } from './jetstream-bus';
import type { Bus, ConsumeSpec, DeadLetter, Delivery, Subscription } from './types';

export interface StanBusOptions {
  /** One URL or several (comma-separated or an array). */
  servers: string | string[];
  /** The NATS Streaming cluster id (the server's `--cluster_id`). */
  clusterId: string;
  /** The copy's name (the pod name); each connection's client id is this plus a unique suffix. */
  name: string;
  /** How long a delivered message may stay unacknowledged before the server redelivers it. */
  ackWaitMs?: number;
  /** Deliveries of one message before it is dead-lettered (counted by this client). */
  maxDeliver?: number;
  /** How often the client pings the server; after `maxPingsOut` unanswered, it connects anew. */
  pingIntervalMs?: number;
  maxPingsOut?: number;
  /** How long a publication waits for the server's acknowledgement. */
  publishTimeoutMs?: number;
  logger?: Logger;
}

/**
 * A client id for one connection: the copy's name, sanitised to what the server accepts
 * (letters, digits, `-`, `_`), plus a random suffix. The server allows one live connection per id
 * and may still hold a crashed copy's for a while ("clientID already registered"); queue durables
 * belong to the group, not the client id, so a fresh id per connection loses nothing.
 */
export function stanClientId(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'client';
  return `${base}-${randomBytes(6).toString('hex')}`;
}

/**
 * NATS Streaming (node-nats-streaming) behind the {@link Bus} interface, for deployments that still
 * run a NATS Streaming server. What it cannot do like JetStream (docs/nats-streaming.md):
 * - no de-duplication by message id: a re-publication is stored again (the version rules make it harmless);
 * - no negative acknowledgement: a retried message is kept unacknowledged and handled again here
 *   after the delay (or redelivered by the server after the ack wait, if this copy went away);
 * - no server-side delivery count: deliveries are counted by this client.
 */
export class StanBus implements Bus {
  readonly maxDeliver: number;
  private stan!: Stan;
  private clientId = '';
  private connected = false;
  private closing = false;
  private reopening?: Promise<void>;
  private opening?: Stan;
  private readonly consumers = new Set<StanConsumer>();
  readonly settings: Required<Omit<StanBusOptions, 'logger'>> & { servers: string[] };

  private constructor(
    options: StanBusOptions,
    readonly logger: Logger,
  ) {
    this.settings = {
      servers: splitServers(options.servers),
      clusterId: options.clusterId,
      name: options.name,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxDeliver: options.maxDeliver ?? 100,
      pingIntervalMs: options.pingIntervalMs ?? 5_000,
      maxPingsOut: options.maxPingsOut ?? 3,
      publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
    };
    this.maxDeliver = this.settings.maxDeliver;
  }

  /** Connects, waiting for the server if it is not up yet. */
  static async connect(options: StanBusOptions): Promise<StanBus> {
    const bus = new StanBus(options, options.logger ?? silentLogger);
    await bus.open();
    return bus;
  }

  /** This connection's client id (a new one after each reconnection). */
  get currentClientId(): string {
    return this.clientId;
  }

  /** True while the connection to the server is up (for readiness). */
  isConnected(): boolean {
    return this.connected && !this.closing;
  }

  async publish(subject: string, data: unknown): Promise<void> {
    await this.publishRaw(subject, JSON.stringify(data));
  }

  /** Publishes a payload as is (tests use it to send what no publisher would). */
  publishRaw(subject: string, payload: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!this.connected && this.reopening) return reject(new Error('bus: NATS Streaming connection is being re-established'));
      try {
        this.stan.publish(subject, payload, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    await this.publishRaw(`deadletter.${letter.group}`, JSON.stringify({ ...letter, deadAt: new Date().toISOString() }));
  }

  async consume(spec: ConsumeSpec, handle: (delivery: Delivery) => Promise<void>): Promise<Subscription> {
    const consumer = new StanConsumer(this, spec, handle);
    await consumer.attach(this.stan);
    this.consumers.add(consumer);
    return {
      close: async () => {
        this.consumers.delete(consumer);
        await consumer.close();
      },
    };
  }

  /** Stops every subscription (waiting for handlers in flight), then closes the connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    this.consumers.clear();
    this.closing = true;
    // A connection still being attempted (the server is unreachable) is abandoned.
    await closeStan(this.opening);
    await this.reopening;
    this.connected = false;
    await closeStan(this.stan);
  }

  /** Opens a connection, remembered until it is established so that `close()` can abandon it. */
  private async attempt(clientId: string): Promise<Stan> {
    const opening = openStan(this.settings, clientId);
    this.opening = opening.stan;
    try {
      return await opening.connected;
    } finally {
      this.opening = undefined;
    }
  }

  private async open(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const clientId = stanClientId(this.settings.name);
      try {
        const stan = await this.attempt(clientId);
        this.clientId = clientId;
        this.adopt(stan);
        return;
      } catch (err) {
        // The server may be starting (its NATS port answers before streaming is ready).
        if (this.closing) throw err;
        this.logger.warn({ err, attempt }, 'bus: could not connect to NATS Streaming, retrying');
        await sleep(Math.min(250 * attempt, 2_000));
      }
    }
  }

  private adopt(stan: Stan): void {
    this.stan = stan;
    this.connected = true;
    stan.on('disconnect', () => {
      if (this.stan !== stan) return;
      this.connected = false;
      this.logger.warn('bus: disconnected');
    });
    stan.on('reconnect', () => {
      if (this.stan !== stan) return;
      this.connected = true;
      this.logger.info('bus: reconnected');
    });
    // The server forgot this client (its pings went unanswered, or it restarted without the
    // client's state): the connection is dead for good. Open a new one and re-subscribe.
    stan.on('connection_lost', (err) => {
      if (this.stan === stan) this.lost(err);
    });
    stan.on('close', () => {
      if (this.stan === stan && !this.closing) this.lost(new Error('connection closed'));
    });
  }

  private lost(err: unknown): void {
    this.connected = false;
    if (this.closing || this.reopening) return;
    this.logger.warn({ err, clientId: this.clientId }, 'bus: NATS Streaming connection lost, connecting with a new client id');
    // Deferred, so that `reopening` is set before closing the old connection can call back here.
    this.reopening = Promise.resolve()
      .then(() => this.reopen())
      .finally(() => (this.reopening = undefined));
  }

  private async reopen(): Promise<void> {
    const old = this.stan;
    void closeStan(old);
    for (let attempt = 1; !this.closing; attempt++) {
      const clientId = stanClientId(this.settings.name);
      let stan: Stan | undefined;
      try {
        stan = await this.attempt(clientId);
        if (this.closing) return void (await closeStan(stan));
        for (const consumer of this.consumers) await consumer.attach(stan);
        this.clientId = clientId;
        this.adopt(stan);
        this.logger.info({ clientId }, 'bus: NATS Streaming connection re-established');
        return;
      } catch (err) {
        if (stan) await closeStan(stan);
        this.logger.warn({ err, attempt }, 'bus: could not reconnect to NATS Streaming, retrying');
        await sleep(Math.min(250 * attempt, 2_000));
      }
    }
  }
}

/** A message this copy has been given and not yet acknowledged. */
interface Tracked {
  msg: Message;
  /** Deliveries so far, counted here: NATS Streaming only says "redelivered". */
  count: number;
  running: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * One durable queue subscription (group = the listener's queue group): manual acks, an ack wait,
 * every stored message on first start, at most `maxInFlight` unacknowledged messages at this copy.
 */
class StanConsumer {
  private subscription?: StanSubscription;
  private readonly tracked = new Map<number, Tracked>();
  private readonly waiting: Tracked[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly durable: string;

  constructor(
    private readonly bus: StanBus,
    private readonly spec: ConsumeSpec,
    private readonly handle: (delivery: Delivery) => Promise<void>,
  ) {
    this.durable = durableName(spec.group, spec.subject);
  }

  /** Subscribes on a connection: the first one, or a new one after the old was lost. */
  attach(stan: Stan): Promise<void> {
    const { ackWaitMs } = this.bus.settings;
    const options = stan
      .subscriptionOptions()
      .setDeliverAllAvailable()
      .setManualAckMode(true)
      .setAckWait(ackWaitMs)
      .setDurableName(this.durable)
      .setMaxInFlight(Math.max(this.spec.concurrency * 2, 32));
    const subscription = stan.subscribe(this.spec.subject, this.spec.group, options);
    return new Promise<void>((resolve, reject) => {
      subscription.once('ready', () => {
        this.subscription = subscription;
        resolve();
      });
      subscription.on('error', (err: unknown) => {
        this.bus.logger.warn({ err, durable: this.durable }, 'bus: subscription error');
        reject(err instanceof Error ? err : new Error(String(err)));
      });
      subscription.once('timeout', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
      subscription.on('message', (msg: Message) => this.receive(msg));
    });
  }

  private receive(msg: Message): void {
    // Not started: left unacknowledged, the server gives it to another copy once we leave.
    if (this.closing) return;
    const sequence = msg.getSequence();
    const known = this.tracked.get(sequence);
    if (known) {
      // The server redelivered (ack wait over) what this copy still holds: a running handler
      // will settle it; one waiting for its retry delay is handled now instead.
      known.msg = msg;
      if (known.running) return;
      clearTimeout(known.timer);
      known.timer = undefined;
      known.count++;
      this.enqueue(known);
      return;
    }
    const entry: Tracked = { msg, count: msg.isRedelivered() ? 2 : 1, running: false };
    this.tracked.set(sequence, entry);
    this.enqueue(entry);
  }

  private enqueue(entry: Tracked): void {
    entry.running = true;
    this.waiting.push(entry);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight.size < this.spec.concurrency && this.waiting.length > 0) this.run(this.waiting.shift()!);
  }

  private run(entry: Tracked): void {
    const sequence = entry.msg.getSequence();
    let settled = false;
    const settle = (how: () => void) => {
      if (settled) return;
      settled = true;
      how();
    };
    const finish = () =>
      settle(() => {
        this.tracked.delete(sequence);
        try {
          entry.msg.ack();
        } catch (err) {
          // The connection is gone: the server redelivers after the ack wait, a harmless duplicate.
          this.bus.logger.warn({ err, subject: this.spec.subject, sequence }, 'bus: could not acknowledge');
        }
      });
    const delivery: Delivery = {
      subject: entry.msg.getSubject(),
      payload: String(entry.msg.getData()),
      deliveryCount: entry.count,
      sequence,
      // The server's timestamp in nanoseconds (getTimestamp() would round it to the millisecond).
      publishedAtMs: entry.msg.getTimestampRaw() / 1e6,
      ack: finish,
      terminate: finish,
      retry: (delayMs) =>
        settle(() => {
          entry.running = false;
          // Closing: left unacknowledged for another copy.
          if (this.closing) return;
          entry.timer = setTimeout(() => {
            entry.timer = undefined;
            entry.count++;
            this.enqueue(entry);
          }, delayMs);
        }),
    };
    const task = this.handle(delivery)
      .catch((err: unknown) => {
        // The listener settles every message itself; this is a last guard against an unhandled
        // rejection. The message will be redelivered after the ack wait.
        this.bus.logger.error({ err, subject: this.spec.subject }, 'bus: handler escaped');
      })
      .finally(() => {
        if (!settled) settle(() => (entry.running = false));
        this.inFlight.delete(task);
        this.pump();
      });
    this.inFlight.add(task);
  }

  /** Finishes the handlers in flight (so their acks go out), then leaves the queue group, keeping the durable. */
  async close(): Promise<void> {
    this.closing = true;
    this.waiting.length = 0;
    for (const entry of this.tracked.values()) clearTimeout(entry.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const subscription = this.subscription;
    this.subscription = undefined;
    if (!subscription || subscription.isClosed()) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 2_000);
      const finish = () => {
        clearTimeout(done);
        resolve();
      };
      subscription.once('closed', finish);
      subscription.once('error', finish);
      try {
        subscription.close();
      } catch {
        finish();
      }
    });
  }
}

function openStan(settings: StanBus['settings'], clientId: string): { stan: Stan; connected: Promise<Stan> } {
  const stan = stanConnect(settings.clusterId, clientId, {
    servers: settings.servers,
    name: clientId,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    connectTimeout: 5_000,
    ackTimeout: settings.publishTimeoutMs,
    stanPingInterval: settings.pingIntervalMs,
    stanMaxPingOut: settings.maxPingsOut,
  });
  const connected = new Promise<Stan>((resolve, reject) => {
    let connected = false;
    // An EventEmitter throws an 'error' nobody listens to: keep a listener for the connection's life.
    stan.on('error', (err: unknown) => {
      if (!connected) {
        reject(err instanceof Error ? err : new Error(String(err)));
        void closeStan(stan);
      }
    });
    stan.once('connect', () => {
      connected = true;
      resolve(stan);
    });
    stan.once('close', () => {
      if (!connected) reject(new Error('bus: connection closed before it was established'));
    });
  });
  return { stan, connected };
}

/** Closes a connection (telling the server, if it answers), resolving when it is closed. */
function closeStan(stan: Stan | undefined): Promise<void> {
  if (!stan || (stan as unknown as { isClosed(): boolean }).isClosed()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = setTimeout(resolve, 3_000);
    stan.once('close', () => {
      clearTimeout(done);
      resolve();
    });
    try {
      stan.close();
    } catch {
      clearTimeout(done);
      resolve();
    }
  });
}

function splitServers(servers: string | string[]): string[] {
  return Array.isArray(servers)
    ? servers
    : servers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
