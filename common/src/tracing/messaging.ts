import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

/**
 * Trace context across the bus, after the OpenTelemetry messaging conventions: a `send` span
 * (PRODUCER) around each publication, child of the context the event was recorded in, whose W3C
 * context travels in the message headers; a `process` span (CONSUMER) per delivered event, child of
 * it; a span linked to each producer around a write that applies several events at once. Without a
 * started SDK every call here is a no-op of the API.
 */

/** The W3C trace context stored with an event: `traceparent` and, when there is one, `tracestate`. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

const tracer = () => trace.getTracer('@ticketing/common');

/** The active span's W3C context, to be stored with an event written now; none without one. */
export function activeTraceCarrier(): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  // Always in this order: stored entries are later removed by exact value.
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/**
 * `fn`, to run outside whatever trace is active where it is scheduled: a timer set while handling
 * one request (the outbox's sweeps and clean-ups) serves many, and its database work would
 * otherwise show up in that request's trace, after it ended.
 */
export function outsideTraces<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return context.bind(ROOT_CONTEXT, fn);
}

function contextFrom(carrier: Record<string, string> | TraceCarrier | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/**
 * Runs `publish` in a PRODUCER span, child of the context stored with the event (the request or
 * event that recorded it, possibly long gone), and gives it the headers that carry that span.
 */
export async function tracedPublish(
  subject: string,
  messageId: string,
  stored: TraceCarrier | undefined,
  publish: (headers: Record<string, string> | undefined) => Promise<void>,
): Promise<void> {
  const span = tracer().startSpan(
    `send ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.operation.type': 'send',
        'messaging.message.id': messageId,
      },
    },
    contextFrom(stored),
  );
  // Sent for a span not sampled too: its flags tell the consumer's (parent-based) sampler to drop
  // the rest of the trace as well, rather than start a new one. None without an SDK.
  let headers: Record<string, string> | undefined;
  if (isSpanContextValid(span.spanContext())) {
    headers = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
  }
  try {
    await publish(headers);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A delivered event's CONSUMER span, and the context its handler runs in. */
export interface ConsumerTrace {
  readonly context: Context;
  /** The producer's context from the message headers, for a write that applies many events. */
  readonly producer?: Link;
  end(error?: unknown): void;
}

/** Starts the CONSUMER span of one delivered event, child of the producer named in its headers. */
export function startConsumerSpan(
  subject: string,
  group: string,
  headers: Record<string, string> | undefined,
  attributes: { sequence: number; deliveryCount: number },
): ConsumerTrace {
  const parent = contextFrom(headers);
  const span = tracer().startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': group,
        'messaging.nats.stream_sequence': attributes.sequence,
        'messaging.nats.delivery_count': attributes.deliveryCount,
      },
    },
    parent,
  );
  const producer = trace.getSpanContext(parent);
  return {
    context: trace.setSpan(ROOT_CONTEXT, span),
    producer: producer && { context: producer },
    end: (error) => {
      if (error !== undefined) failed(span, error);
      span.end();
    },
  };
}

/**
 * Runs `write`, which applies several delivered events at once, in a span linked to each of their
 * producers (a span has one parent; a bulk write serves many traces).
 */
export function inBulkSpan<T>(subject: string, producers: (Link | undefined)[], write: () => Promise<T>): Promise<T> {
  const links = producers.filter((l): l is Link => l !== undefined);
  const span = tracer().startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.operation.type': 'process',
        'messaging.batch.message_count': producers.length,
      },
    },
    ROOT_CONTEXT,
  );
  return context.with(trace.setSpan(ROOT_CONTEXT, span), async () => {
    try {
      return await write();
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

function failed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
