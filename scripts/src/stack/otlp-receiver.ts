import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as received, flattened from OTLP/JSON (ids in hex, as OTLP/JSON writes them). */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces). */
  url: string;
  /** Spans received as OTLP/JSON (with `keep`), in arrival order. */
  spans: ReceivedSpan[];
  /** Export requests received and their bytes (any encoding). */
  requests: number;
  bytes: number;
  stop(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

const valueOf = (v: OtlpValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/**
 * An OTLP/HTTP trace receiver on loopback: answers every POST /v1/traces with success. With `keep`,
 * parses OTLP/JSON bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) into `spans`; otherwise it only
 * counts, as a collector that costs the exporting services nothing more than the export itself.
 */
export async function startOtlpReceiver(options: { keep: boolean }): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = { url: '', spans: [], requests: 0, bytes: 0, stop: async () => undefined };
  const server = http.createServer((req, res) => {
    const json = (req.headers['content-type'] ?? '').includes('json');
    // Only bodies to be parsed are held; the others are counted as they arrive and dropped.
    const chunks: Buffer[] | undefined = options.keep && json ? [] : undefined;
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      chunks?.push(c);
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      receiver.requests++;
      receiver.bytes += bytes;
      if (chunks) {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: any[] }[] }[];
        };
        for (const rs of parsed.resourceSpans ?? []) {
          const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              receiver.spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: attributesOf(s.attributes),
                links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
              });
            }
          }
        }
      }
      // An empty ExportTraceServiceResponse: full success, in the encoding asked in.
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}
