import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { createTicketingClient } from '@ticketing/client';
import { waitFor } from '@ticketing/common/testing';
import { startTestStack } from './stack-fixture';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../stack/otlp-receiver';

jest.setTimeout(120_000);

/** The spans of one trace, and how to walk from a span to its parents. */
function traceOf(all: ReceivedSpan[], traceId: string) {
  const spans = all.filter((s) => s.traceId === traceId);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain: ReceivedSpan[] = [];
    for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId && byId.get(p.parentSpanId)) chain.push(p);
    return chain;
  };
  return {
    spans,
    find: (where: (s: ReceivedSpan) => boolean) => spans.find(where),
    /** A span of `service` and `kind` named `name`, whose ancestors include `above`. */
    below: (above: ReceivedSpan, service: string, kind: number, name: string | RegExp) =>
      spans.find(
        (s) =>
          s.service === service &&
          s.kind === kind &&
          (typeof name === 'string' ? s.name === name : name.test(s.name)) &&
          ancestors(s).includes(above),
      ),
    childOf: (parent: ReceivedSpan, where: (s: ReceivedSpan) => boolean) => spans.find((s) => s.parentSpanId === parent.spanId && where(s)),
  };
}

const method = (s: ReceivedSpan) => s.attributes['http.request.method'] ?? s.attributes['http.method'];
const isMongo = (s: ReceivedSpan) =>
  s.kind === SPAN_KIND.client && (s.attributes['db.system'] ?? s.attributes['db.system.name']) === 'mongodb';

describe('one trace from an HTTP request through NATS into the other service (real processes, OTLP/HTTP)', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver({ keep: true });
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('when a ticket is edited and then ordered, then each request’s trace goes through the bus to the replica, and the reservation continues the order’s trace', async () => {
    const stack = await startTestStack({
      serviceEnv: {
        LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const { tickets, orders } = createTicketingClient({ baseUrl: stack.url, token: stack.token });
    const replicaVersion = async (id: string) => (await orders.GET('/api/orders/tickets/{id}', { params: { path: { id } } })).data?.version;
    try {
      const created = await tickets.POST('/api/tickets', { body: { title: 'traced', price: 10 } });
      const ticketId = created.data!.id;
      await waitFor(async () => (await replicaVersion(ticketId)) === 0);
      const edited = await tickets.PUT('/api/tickets/{id}', { params: { path: { id: ticketId } }, body: { title: 'traced', price: 12 } });
      expect(edited.response.status).toBe(200);
      await waitFor(async () => (await replicaVersion(ticketId)) === 1);
      const order = await orders.POST('/api/orders', { body: { ticketId } });
      expect(order.response.status).toBe(201);
      // the reservation (ticket v2) replicated back to orders
      await waitFor(async () => (await replicaVersion(ticketId)) === 2);

      // The edit: tickets' HTTP span → publication of ticket:updated → orders' consumer span → its database write.
      const edit = await waitFor(
        () => {
          const put = receiver.spans.find((s) => s.service === 'tickets' && s.kind === SPAN_KIND.server && method(s) === 'PUT');
          if (!put) return undefined;
          const t = traceOf(receiver.spans, put.traceId);
          const send = t.below(put, 'tickets', SPAN_KIND.producer, 'send ticket:updated');
          const consume = send && t.childOf(send, (s) => s.service === 'orders' && s.kind === SPAN_KIND.consumer);
          const write = consume && t.childOf(consume, isMongo);
          return write && { put, send: send!, consume: consume!, write };
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the edit’s trace to reach the receiver' },
      );
      expect(edit.put.attributes['http.route']).toBe('/api/tickets/:id');
      expect(edit.send.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'ticket:updated' });
      expect(edit.consume.name).toBe('process ticket:updated');
      expect(edit.consume.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.consumer.group.name': 'orders-service' });
      expect(edit.write.service).toBe('orders');
      // The statement is the command's shape, values replaced (the services' serializer): not the
      // edited title, and the write's collection only as a key.
      const statement = String(edit.write.attributes['db.query.text'] ?? edit.write.attributes['db.statement']);
      expect(JSON.parse(statement)).toEqual(expect.any(Object));
      expect(statement).toContain('"?"');
      expect(statement).not.toContain('traced');

      // The order: orders' HTTP span → order:created → tickets' consumer span → the reservation's write
      // and its ticket:updated → orders' consumer span that applies it, all in the order's trace.
      const reservation = await waitFor(
        () => {
          const post = receiver.spans.find((s) => s.service === 'orders' && s.kind === SPAN_KIND.server && method(s) === 'POST');
          if (!post) return undefined;
          const t = traceOf(receiver.spans, post.traceId);
          const sendOrder = t.below(post, 'orders', SPAN_KIND.producer, 'send order:created');
          const reserve = sendOrder && t.childOf(sendOrder, (s) => s.service === 'tickets' && s.kind === SPAN_KIND.consumer);
          const reserveWrite = reserve && t.childOf(reserve, isMongo);
          const sendTicket = reserve && t.below(reserve, 'tickets', SPAN_KIND.producer, 'send ticket:updated');
          const replicate = sendTicket && t.childOf(sendTicket, (s) => s.service === 'orders' && s.kind === SPAN_KIND.consumer);
          return replicate && reserveWrite && { post, reserve: reserve!, reserveWrite, replicate };
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the order’s trace through the reservation to reach the receiver' },
      );
      expect(reservation.post.attributes['http.route']).toBe('/api/orders');
      expect(reservation.reserve.name).toBe('process order:created');
      expect(reservation.replicate.name).toBe('process ticket:updated');
      // two requests, two traces
      expect(reservation.post.traceId).not.toBe(edit.put.traceId);

      // A request that fails with 500: every line tickets logged for it carries its request id and
      // the trace id of its HTTP span. An index the service does not know of (an operator's, say)
      // makes a second ticket of the same title fail with a duplicate key, which it has no answer for.
      const ticketsDb = await mongoose.createConnection(stack.tickets[0].options.env.MONGO_URL!).asPromise();
      try {
        await ticketsDb.collection('tickets').createIndex({ title: 1 }, { unique: true, name: 'unexpected_unique_title' });
        const failed = await tickets.POST('/api/tickets', { body: { title: 'traced', price: 10 } });
        expect(failed.response.status).toBe(500);
        const requestId = failed.response.headers.get('x-request-id');
        const post = await waitFor(
          () =>
            receiver.spans.find(
              (s) =>
                s.service === 'tickets' &&
                s.kind === SPAN_KIND.server &&
                method(s) === 'POST' &&
                (s.attributes['http.response.status_code'] ?? s.attributes['http.status_code']) === 500,
            ),
          { timeoutMs: 30_000, intervalMs: 100, what: 'the failed request’s span to reach the receiver' },
        );
        const logged = () =>
          fs
            .readFileSync(path.join(stack.logDir, 'tickets-0.log'), 'utf8')
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .filter((line) => line.requestId === requestId);
        // the error line, and the access line written once the answer has gone out (5xx: warn)
        await waitFor(() => logged().length >= 2, { what: 'the failed request’s lines in the log' });
        expect(logged().map((l) => l.message)).toEqual(['http: unexpected error', 'http request']);
        for (const line of logged()) expect(line).toMatchObject({ requestId, trace_id: post.traceId, span_id: expect.any(String) });
      } finally {
        await ticketsDb.close();
      }
    } finally {
      await stack.stop();
    }
  });
});
