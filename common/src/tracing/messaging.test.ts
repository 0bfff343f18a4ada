import mongoose from 'mongoose';
import { context, propagation, trace, SpanKind, TraceFlags, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OutboxRelay, recordEvent, type OutboxEntry } from '../outbox';
import { Listener, type BatchItem, type BatchResult, type HandlerOutcome, type MessageContext } from '../bus/listener';
import { Subjects } from '../events/subjects';
import type { TicketCreatedEvent, TicketEventData } from '../events/contracts';
import { startTransport, type TestBus, type TestTransport } from '../testing/transports';
import { testMongoUrl, waitFor } from '../testing/helpers';
import { itemEventData, outboxItemModel, type OutboxItem } from '../testing/outbox-items';
import { createLogger, type Logger } from '../logger';

/**
 * Trace context through the outbox and the bus, with the SDK's tracer in this process, a real
 * MongoDB-protocol server and a real nats-server (JetStream: NATS Streaming has no headers).
 */

type Item = OutboxItem;
const Item = outboxItemModel('TracedItem');
const eventOf = itemEventData;

/** Records what it handled, the span active in its handler, and an outbox entry made there. */
class TracedListener extends Listener<TicketCreatedEvent> {
  readonly subject = Subjects.TicketCreated;
  readonly queueGroupName = 'traced';
  protected override readonly batchSize: number;
  readonly seen: { id: string; spanId?: string; recorded: OutboxEntry }[] = [];
  readonly bulks: string[][] = [];

  constructor(bus: TestBus, batchSize = 1) {
    super(bus);
    this.batchSize = batchSize;
  }

  protected async onMessage(data: TicketEventData, _context: MessageContext): Promise<HandlerOutcome> {
    const recorded = new Item({ title: 'reaction', price: 1 });
    recordEvent<TicketCreatedEvent>(recorded, Subjects.TicketCreated, (v) => eventOf(recorded, v));
    this.seen.push({ id: data.id, spanId: trace.getActiveSpan()?.spanContext().spanId, recorded: recorded.outbox[0] });
  }

  protected override onBatch(items: BatchItem<TicketEventData>[]): Promise<BatchResult>[] {
    if (items.length < 2) return items.map((item) => this.handleOne(item));
    const all = this.inBulkSpan(items, async () => {
      this.bulks.push(items.map((i) => i.data.id));
      // the write a real listener makes here, in the bulk span
      await Item.collection.findOne({});
      return items.map((): BatchResult => ({ outcome: 'applied' }));
    });
    return items.map((_, i) => all.then((results) => results[i]));
  }
}

/** Fails every event it is given: each delivery is logged as a failure and retried. */
class FailingListener extends Listener<TicketCreatedEvent> {
  readonly subject = Subjects.TicketCreated;
  readonly queueGroupName = 'failing';

  constructor(bus: TestBus, logger: Logger) {
    super(bus, logger);
  }

  protected onMessage(): Promise<HandlerOutcome> {
    return Promise.reject(new Error('the handler broke'));
  }
}

describe('trace context through the outbox and JetStream (real servers)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  let transport: TestTransport;
  let bus: TestBus;
  let relay: OutboxRelay;
  const listeners: Listener<TicketCreatedEvent>[] = [];

  const spans = () => exporter.getFinishedSpans();
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const sendSpanOf = (msgId: string) =>
    spans().find((s) => s.name === 'send ticket:created' && s.attributes['messaging.message.id'] === msgId);

  /** A new record saved with its event inside a request span of its own, then published. */
  const savedInRequest = async (title: string) => {
    const request = tracer.startSpan('POST /items');
    const doc = new Item({ title, price: 5 });
    await context.with(trace.setSpan(context.active(), request), async () => {
      recordEvent<TicketCreatedEvent>(doc, Subjects.TicketCreated, (v) => eventOf(doc, v));
      await relay.saveAndDispatch(doc);
    });
    request.end();
    return { request, doc };
  };

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    await mongoose.connect(testMongoUrl('tracing'), { monitorCommands: true });
    transport = await startTransport('jetstream');
    bus = await transport.connect({ name: 'tracing-test' });
  });
  beforeEach(() => {
    exporter.reset();
    relay = new OutboxRelay(Item, bus, { cleanupDelayMs: 50 });
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    await relay.stop();
    await transport.reset();
  });
  afterAll(async () => {
    await bus.close();
    await transport.destroy();
    await mongoose.disconnect();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('when a record is saved inside a span, then its event holds that span’s traceparent in the same write, and the publication continues it', async () => {
    const writes: { outbox?: OutboxEntry[] }[] = [];
    const client = mongoose.connection.getClient();
    const watch = (e: { commandName: string; command: { documents?: { outbox?: OutboxEntry[] }[] } }) => {
      if (e.commandName === 'insert' && e.command.documents) writes.push(...e.command.documents);
    };
    client.on('commandStarted', watch);
    const request = tracer.startSpan('PUT /items/:id', { kind: SpanKind.SERVER });
    const doc = new Item({ title: 'traced', price: 5 });
    try {
      await context.with(trace.setSpan(context.active(), request), async () => {
        recordEvent<TicketCreatedEvent>(doc, Subjects.TicketCreated, (v) => eventOf(doc, v));
        await relay.saveAndDispatch(doc);
      });
    } finally {
      request.end();
      client.off('commandStarted', watch);
    }
    const { traceId, spanId } = request.spanContext();
    // the one insert of the record carries the event and its trace context
    expect(writes).toHaveLength(1);
    expect(writes[0].outbox).toEqual([
      expect.objectContaining({ msgId: doc.outbox[0].msgId, trace: { traceparent: `00-${traceId}-${spanId}-01` } }),
    ]);

    // published later, in a PRODUCER span that is the request span's child
    const send = await waitFor(() => sendSpanOf(doc.outbox[0].msgId));
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.spanContext().traceId).toBe(traceId);
    expect(parentOf(send)).toBe(spanId);
    expect(send.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'ticket:created' });
    // and removed afterwards by exact value, trace context included
    await waitFor(async () => (await Item.collection.findOne({ _id: doc._id }))?.outbox.length === 0, { what: 'the outbox to empty' });
  });

  it('when a record with a stored trace context is published by a sweep, then the producer span is a child of that context', async () => {
    const request = tracer.startSpan('an earlier request');
    const doc = new Item({ title: 'left behind', price: 5 });
    context.with(trace.setSpan(context.active(), request), () =>
      recordEvent<TicketCreatedEvent>(doc, Subjects.TicketCreated, (v) => eventOf(doc, v)),
    );
    request.end();
    await doc.save(); // written, never dispatched: a process that died before publishing
    relay.start();
    const send = await waitFor(() => sendSpanOf(doc.outbox[0].msgId));
    expect(send.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentOf(send)).toBe(request.spanContext().spanId);
  });

  it('when an event is consumed, then its handler runs in a CONSUMER span, child of the producer, and what it records continues the trace', async () => {
    const listener = new TracedListener(bus);
    listeners.push(listener);
    await listener.listen();
    const { request, doc } = await savedInRequest('consumed');

    const seen = await waitFor(() => listener.seen.find((s) => s.id === doc.id));
    const consumer = await waitFor(() => spans().find((s) => s.name === 'process ticket:created'));
    const send = sendSpanOf(doc.outbox[0].msgId)!;
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentOf(consumer)).toBe(send.spanContext().spanId);
    expect(seen.spanId).toBe(consumer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({ 'messaging.consumer.group.name': 'traced', 'messaging.operation.type': 'process' });
    // an event recorded by the handler (a reservation's ticket:updated) carries the consumer span
    expect(seen.recorded.trace?.traceparent).toBe(`00-${request.spanContext().traceId}-${consumer.spanContext().spanId}-01`);
  });

  it('when the request was not sampled, then neither is anything downstream: no span is exported and the trace is not restarted', async () => {
    const listener = new TracedListener(bus);
    listeners.push(listener);
    await listener.listen();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    // a caller that decided not to sample (flags 00), as a parent-based sampler then does here too
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    const doc = new Item({ title: 'unsampled', price: 5 });
    await context.with(unsampled, async () => {
      const request = tracer.startSpan('GET /unsampled');
      await context.with(trace.setSpan(context.active(), request), async () => {
        recordEvent<TicketCreatedEvent>(doc, Subjects.TicketCreated, (v) => eventOf(doc, v));
        await relay.saveAndDispatch(doc);
      });
      request.end();
    });
    expect(doc.outbox[0].trace?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    const seen = await waitFor(() => listener.seen.find((s) => s.id === doc.id));
    // the consumer went on in the same trace, unsampled: what it records says so
    expect(seen.recorded.trace?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    expect(spans()).toEqual([]);
  });

  it('when an event fails and is retried, or is dead-lettered, then those lines carry the trace id of the request that published it', async () => {
    const lines: { message: string; trace_id?: string }[] = [];
    const listener = new FailingListener(
      bus,
      createLogger({}, 'debug', (line) => lines.push(JSON.parse(line))),
    );
    listeners.push(listener);
    await listener.listen();
    const { request } = await savedInRequest('fails');
    // and one that no schema accepts, published by a traced producer elsewhere
    const elsewhere = '4bf92f3577b34da6a3ce929d0e0e4736';
    await bus.publish(Subjects.TicketCreated, { id: 'not a ticket' }, 'malformed-traced', {
      traceparent: `00-${elsewhere}-00f067aa0ba902b7-01`,
    });

    const failed = await waitFor(() => lines.find((l) => l.message === 'listener: handler failed, retrying'));
    const deadLettered = await waitFor(() => lines.find((l) => l.message === 'listener: event dead-lettered'));
    expect(failed.trace_id).toBe(request.spanContext().traceId);
    expect(deadLettered.trace_id).toBe(elsewhere);
    // the malformed event's consumer span records why it failed
    const consumer = spans().find((s) => s.name === 'process ticket:created' && s.spanContext().traceId === elsewhere);
    expect(consumer?.status.message).toMatch(/^malformed event: /);
  });

  it('when events are applied together in one write, then that write’s span links to each of their producers', async () => {
    const listener = new TracedListener(bus, 16);
    listeners.push(listener);
    const docs = Array.from({ length: 8 }, (_, i) => new Item({ title: `bulk-${i}`, price: i + 1 }));
    const requests = docs.map((doc) => {
      const request = tracer.startSpan(`POST /items ${doc.title}`);
      context.with(trace.setSpan(context.active(), request), () =>
        recordEvent<TicketCreatedEvent>(doc, Subjects.TicketCreated, (v) => eventOf(doc, v)),
      );
      request.end();
      return request;
    });
    // all published before the listener starts, so that they arrive together
    await Item.insertMany(docs);
    relay.start();
    await waitFor(() => docs.every((d) => sendSpanOf(d.outbox[0].msgId)), { what: 'every publication' });
    await listener.listen();
    // handled: each result settled, so the span around its write has ended
    await waitFor(() => listener.stats.handled === docs.length, { what: 'every event handled' });

    const bulkSpans = spans().filter((s) => s.name === 'process ticket:created' && s.links.length > 0);
    expect(listener.bulks.length).toBeGreaterThan(0);
    expect(bulkSpans).toHaveLength(listener.bulks.length);
    const linked = bulkSpans.flatMap((s) => s.links.map((l) => l.context.spanId));
    const producersOfBulked = listener.bulks
      .flat()
      .map((id) => sendSpanOf(docs.find((d) => d.id === id)!.outbox[0].msgId)!.spanContext().spanId);
    expect(linked.sort()).toEqual(producersOfBulked.sort());
    // each event's own consumer span still belongs to its request's trace
    for (const [i, doc] of docs.entries()) {
      const send = sendSpanOf(doc.outbox[0].msgId)!;
      const own = spans().find((s) => s.name === 'process ticket:created' && parentOf(s) === send.spanContext().spanId);
      expect(own?.spanContext().traceId).toBe(requests[i].spanContext().traceId);
    }
  });
});
