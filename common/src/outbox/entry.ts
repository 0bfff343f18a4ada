import { Schema, type HydratedDocument } from 'mongoose';
import { eventMessageId, type AnyEvent } from '../events/contracts';
import { activeTraceCarrier, type TraceCarrier } from '../tracing/messaging';

/**
 * The transactional outbox, without transactions: an event waiting to be published is stored in
 * the record it is about, in the same single-document write as the change itself. So a write that
 * succeeded always has its event, even if the bus is down or the process dies right after. The
 * relay publishes pending events in order and, once the server has stored them, removes them in
 * batches a little later.
 */
export interface OutboxEntry {
  msgId: string;
  subject: string;
  /** The event payload as JSON. */
  payload: string;
  /** The W3C trace context the event was recorded in, continued by its publication (tracing on). */
  trace?: TraceCarrier;
}

export interface WithOutbox {
  outbox: OutboxEntry[];
}

const traceCarrierSchema = new Schema<TraceCarrier>({ traceparent: { type: String, required: true }, tracestate: String }, { _id: false });

export const outboxEntrySchema = new Schema<OutboxEntry>(
  {
    msgId: { type: String, required: true },
    subject: { type: String, required: true },
    payload: { type: String, required: true },
    trace: { type: traceCarrierSchema, required: false },
  },
  { _id: false },
);

/** Add to a schema definition: `{ ...outboxField, title: … }`. */
export const outboxField = { outbox: { type: [outboxEntrySchema], default: [] } };

/**
 * The version a document will have once the pending `save()` succeeds: 0 for a new one, one more
 * than now otherwise (mongoose's `optimisticConcurrency` increments it on every save).
 */
export function nextVersion(doc: { isNew: boolean; get(path: string): unknown }): number {
  return doc.isNew ? 0 : Number(doc.get('version')) + 1;
}

/**
 * Queues an event in the document; it is stored by the next `save()`. `build` receives the version
 * the document will have after that save, which the event must carry.
 */
export function recordEvent<E extends AnyEvent>(
  doc: HydratedDocument<WithOutbox> & { isNew: boolean },
  subject: E['subject'],
  build: (version: number) => E['data'],
): void {
  doc.outbox.push(outboxEntry<E>(subject, build(nextVersion(doc))));
}

/**
 * The outbox entry of one event, for a write that stores it itself (`$push: { outbox: entry }` in
 * the same single-document update as the change it describes) instead of through `recordEvent`.
 */
export function outboxEntry<E extends AnyEvent>(subject: E['subject'], data: E['data']): OutboxEntry {
  const trace = activeTraceCarrier();
  return { msgId: eventMessageId(subject, data), subject, payload: JSON.stringify(data), ...(trace && { trace }) };
}

/**
 * An entry as stored, fields in the schema's order: published entries are removed by exact value,
 * and embedded documents are equal only with the same fields in the same order.
 */
export function storedEntry(e: OutboxEntry): OutboxEntry {
  const entry: OutboxEntry = { msgId: e.msgId, subject: e.subject, payload: e.payload };
  if (e.trace)
    entry.trace = e.trace.tracestate
      ? { traceparent: e.trace.traceparent, tracestate: e.trace.tracestate }
      : { traceparent: e.trace.traceparent };
  return entry;
}
