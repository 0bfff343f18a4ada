/**
 * The transport seen by listeners and publishers. JetStream implements it today; another bus
 * (NATS Streaming, Kafka…) could sit behind the same interface without touching service code.
 */
export interface Bus {
  /**
   * Resolves once the server has stored the message; the same `messageId` twice is stored once.
   * `headers` (the trace context) go with the message where the transport has headers.
   */
  publish(subject: string, data: unknown, messageId: string, headers?: Record<string, string>): Promise<void>;
  /** One durable, shared subscription per (group, subject): every copy of a service shares the work. */
  consume(spec: ConsumeSpec, handle: (delivery: Delivery) => Promise<void>): Promise<Subscription>;
  /** Keeps a message that cannot be processed, with why, in the dead-letter store. */
  deadLetter(letter: DeadLetter): Promise<void>;
  /** The most deliveries of one message before it is dead-lettered. */
  readonly maxDeliver: number;
  /**
   * The server's view of each durable consumer this copy consumes from, where the bus has one
   * (JetStream does; NATS Streaming's client protocol has no such request).
   */
  consumerStates?(): Promise<ConsumerState[]>;
}

/** One durable consumer as the server reports it. */
export interface ConsumerState {
  consumer: string;
  subject: string;
  /** In the stream, not yet delivered to the consumer. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** Delivered more than once and not yet acknowledged. */
  redelivered: number;
}

export interface ConsumeSpec {
  subject: string;
  group: string;
  /** Messages handled at once by this copy. */
  concurrency: number;
}

export interface Delivery {
  readonly subject: string;
  /** The raw payload as sent, before any parsing. */
  readonly payload: string;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  /** The message's position in the stream: a stable id for logs and dead letters. */
  readonly sequence: number;
  /** The message's headers (the publisher's trace context), where the transport has them. */
  readonly headers?: Record<string, string>;
  /**
   * When the server stored the message (its publication), in epoch milliseconds by the server's
   * clock, with the fraction it has: what replication lag is measured from.
   */
  readonly publishedAtMs: number;
  ack(): void;
  /** Redeliver later, not before `delayMs`. */
  retry(delayMs: number): void;
  /** Never deliver again. */
  terminate(reason: string): void;
}

export interface Subscription {
  /** Stops pulling, waits for the handlers in flight. */
  close(): Promise<void>;
}

export interface DeadLetter {
  group: string;
  subject: string;
  payload: string;
  reason: string;
  deliveryCount: number;
  sequence: number;
}
