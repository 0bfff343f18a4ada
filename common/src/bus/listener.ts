import type { AnyEvent } from '../events/contracts';
import { describeSchemaError, eventSchemas } from '../events/contracts';
import { silentLogger, type Logger } from '../logger';
import { context as otelContext } from '@opentelemetry/api';
import { inBulkSpan, startConsumerSpan, type ConsumerTrace } from '../tracing/messaging';
import { FAILURE_RETRY, OUT_OF_ORDER_RETRY, retryDelay } from './retry-policy';
import { SameTurn } from './same-turn';
import type { Bus, Delivery, Subscription } from './types';

export interface MessageContext {
  subject: string;
  /** Position in the stream: a stable event id for logs. */
  sequence: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** When the bus stored the event (its publication): epoch milliseconds by the server's clock. */
  publishedAtMs: number;
  /** Binds the event's subject, stream sequence, record id and version to every line. */
  logger: Logger;
}

/**
 * Thrown by a handler when the event cannot be applied *yet*: its predecessor (an earlier version,
 * or the record itself) has not arrived. The event is redelivered shortly, without alarm.
 */
export class NotYetError extends Error {
  override readonly name = 'NotYetError';
}

/**
 * What a handler may say it did. `'duplicate'`: the event was already applied (a redelivery or a
 * re-publication) and changed nothing. Resolving with nothing counts as applied.
 */
export type HandlerOutcome = void | 'applied' | 'duplicate';

export interface ListenerStats {
  /** Events whose handler resolved (applied + duplicates). */
  handled: number;
  /** Events that changed state here: each event should be applied by exactly one copy, once. */
  applied: number;
  /** Deliveries recognised as already applied, acknowledged with no change. */
  duplicates: number;
  /** Deliveries handed back to the bus to try again. */
  retried: number;
  /** Events dead-lettered (malformed, or over the delivery limit). */
  deadLettered: number;
}

/** One event of a batch (see {@link Listener.onBatch}). */
export interface BatchItem<Data> {
  data: Data;
  context: MessageContext;
}

/** What became of one event of a batch: what its handler would have resolved with, or thrown. */
export type BatchResult = { outcome: HandlerOutcome } | { error: unknown };

/** An event waiting for its batch, and how to give it its result. */
type Waiting<Data> = { item: BatchItem<Data>; settle: (result: BatchResult) => void };

/**
 * The base of every listener. The rules live here, not in each listener:
 * - the payload is parsed and validated against its subject's schema; a bad one is dead-lettered;
 * - the event is acknowledged only after `onMessage` resolves;
 * - a handler that throws is retried with backoff, and dead-lettered past the delivery limit;
 * - nothing a handler does can crash the process or hold up the events behind it.
 */
export abstract class Listener<E extends AnyEvent> {
  abstract readonly subject: E['subject'];
  abstract readonly queueGroupName: string;
  /** Events of this subject handled at once by this copy of the service. */
  protected readonly concurrency: number = 32;
  /**
   * Above 1, the events that arrive together (in one turn of the event loop, up to this many)
   * go to {@link onBatch} at once; each is still acknowledged, retried or dead-lettered on its own.
   */
  protected readonly batchSize: number = 1;
  readonly stats: ListenerStats = { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };
  private subscription?: Subscription;
  // Of unknown data, so that a Listener<SomeEvent> is still a Listener<AnyEvent> to TypeScript.
  private batches?: SameTurn<Waiting<unknown>>;
  /** Each event's consumer span, by its context object, while it is being handled. */
  private readonly traces = new WeakMap<MessageContext, ConsumerTrace>();

  constructor(
    protected readonly bus: Bus,
    protected readonly logger: Logger = silentLogger,
  ) {}

  protected abstract onMessage(data: E['data'], context: MessageContext): Promise<HandlerOutcome>;

  /**
   * Handles several events at once, when `batchSize` is above 1: one promise of a result per item,
   * in order, each settling as soon as that event is done (its delivery is acknowledged or handed
   * back then, not when the whole batch is). By default each goes to `onMessage`.
   */
  protected onBatch(items: BatchItem<E['data']>[]): Promise<BatchResult>[] {
    return items.map((item) => this.handleOne(item));
  }

  /**
   * Called once for each event that changed state here, after its handler (its write) resolved
   * and before it is acknowledged: where a subclass measures what applying costs or took.
   */
  protected onApplied(_context: MessageContext): void {}

  /**
   * Runs `onMessage` for one event, in its consumer span (so the writes it makes are that span's
   * children, and an event it records continues the trace), and says what became of it.
   */
  protected handleOne({ data, context }: BatchItem<E['data']>): Promise<BatchResult> {
    const run = () => {
      try {
        return this.onMessage(data, context).then(
          (outcome): BatchResult => ({ outcome }),
          (error: unknown): BatchResult => ({ error }),
        );
      } catch (error) {
        return Promise.resolve<BatchResult>({ error });
      }
    };
    const trace = this.traces.get(context);
    return trace ? otelContext.with(trace.context, run) : run();
  }

  /**
   * Runs a write that applies several of a batch's events at once in a span linked to each of
   * their producers (see `onBatch`): the write itself is then that span's child.
   */
  protected inBulkSpan<T>(items: BatchItem<E['data']>[], write: () => Promise<T>): Promise<T> {
    return inBulkSpan(
      this.subject,
      items.map((item) => this.traces.get(item.context)?.producer),
      write,
    );
  }

  /** Creates (or joins) the group's durable consumer and starts handling events. */
  async listen(): Promise<void> {
    if (this.subscription) return;
    this.subscription = await this.bus.consume(
      { subject: this.subject, group: this.queueGroupName, concurrency: this.concurrency },
      (delivery) => this.receive(delivery),
    );
  }

  /** Stops pulling and waits for the events in flight to finish. */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  private async receive(delivery: Delivery): Promise<void> {
    // First, so that what is logged about the event outside its handler (a malformed payload, a
    // retry, a dead letter) is logged in its span as well: with tracing on, such a line carries the
    // trace id of the request that published the event.
    const trace = startConsumerSpan(delivery.subject, this.queueGroupName, delivery.headers, delivery);
    const inSpan: InSpan = (log) => otelContext.with(trace.context, log);
    const parsed = parsePayload(delivery.payload, this.subject);
    if (!parsed.ok) {
      const reason = `malformed event: ${parsed.reason}`;
      trace.end(new Error(reason));
      const logger = this.logger.child({ subject: delivery.subject, eventSeq: delivery.sequence });
      await this.deadLetter(delivery, reason, logger, inSpan);
      return;
    }
    const { id, version } = parsed.data as { id: string; version: number };
    // Every line about this event, the handler's included (context.logger), says which it is.
    const logger = this.logger.child({ subject: delivery.subject, eventSeq: delivery.sequence, recordId: id, version });
    const context: MessageContext = {
      subject: delivery.subject,
      sequence: delivery.sequence,
      deliveryCount: delivery.deliveryCount,
      publishedAtMs: delivery.publishedAtMs,
      logger,
    };
    this.traces.set(context, trace);
    const result = await this.handle({ data: parsed.data as E['data'], context });
    // An event that is only early is no failure of its span; the retry gets a span of its own.
    trace.end('error' in result && !(result.error instanceof NotYetError) ? result.error : undefined);
    if ('outcome' in result) {
      this.stats.handled++;
      if (result.outcome === 'duplicate') this.stats.duplicates++;
      else {
        this.stats.applied++;
        this.onApplied(context);
      }
      delivery.ack();
    } else {
      const err = result.error;
      const notYet = err instanceof NotYetError;
      if (delivery.deliveryCount >= this.bus.maxDeliver) {
        const why = err instanceof Error ? err.message : String(err);
        await this.deadLetter(delivery, `delivery limit (${this.bus.maxDeliver}) reached: ${why}`, logger, inSpan);
        return;
      }
      const delay = retryDelay(notYet ? OUT_OF_ORDER_RETRY : FAILURE_RETRY, delivery.deliveryCount);
      inSpan(() => {
        if (notYet) logger.debug({ reason: (err as Error).message, delay }, 'listener: not yet applicable, retrying');
        else logger.warn({ err, delay, deliveryCount: delivery.deliveryCount }, 'listener: handler failed, retrying');
      });
      this.stats.retried++;
      delivery.retry(delay);
    }
  }

  /** The event's handler, alone or with the others waiting in this turn (see `batchSize`). */
  private handle(item: BatchItem<E['data']>): Promise<BatchResult> {
    if (this.batchSize <= 1) return this.handleOne(item);
    // Made on first use: a subclass's batchSize is set after this constructor has run.
    this.batches ??= new SameTurn((batch) => this.runBatch(batch), this.batchSize);
    return new Promise((settle) => this.batches!.add({ item, settle }));
  }

  private runBatch(batch: Waiting<unknown>[]): void {
    let results: Promise<BatchResult>[];
    try {
      results = this.onBatch(batch.map((w) => w.item as BatchItem<E['data']>));
    } catch (error) {
      results = batch.map(() => Promise.resolve({ error }));
    }
    batch.forEach((w, i) => {
      const result = results[i] ?? Promise.resolve({ error: new Error('onBatch gave no result for this event') });
      result.then(w.settle, (error: unknown) => w.settle({ error }));
    });
  }

  private async deadLetter(delivery: Delivery, reason: string, logger: Logger, inSpan: InSpan): Promise<void> {
    try {
      await this.bus.deadLetter({
        group: this.queueGroupName,
        subject: delivery.subject,
        payload: delivery.payload,
        reason,
        deliveryCount: delivery.deliveryCount,
        sequence: delivery.sequence,
      });
      this.stats.deadLettered++;
      inSpan(() => logger.error({ reason }, 'listener: event dead-lettered'));
      delivery.terminate(reason);
    } catch (err) {
      // Keep the event rather than lose it: it comes back and is dead-lettered next time.
      inSpan(() => logger.error({ err, reason }, 'listener: could not dead-letter, retrying'));
      this.stats.retried++;
      delivery.retry(retryDelay(FAILURE_RETRY, delivery.deliveryCount));
    }
  }
}

/** Runs a log call in the event's consumer span (see `receive`). */
type InSpan = (log: () => void) => void;

type Parsed = { ok: true; data: unknown } | { ok: false; reason: string };

function parsePayload(payload: string, subject: AnyEvent['subject']): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'payload is not valid JSON' };
  }
  const result = eventSchemas[subject].safeParse(json);
  return result.success ? { ok: true, data: result.data } : { ok: false, reason: describeSchemaError(result.error) };
}
