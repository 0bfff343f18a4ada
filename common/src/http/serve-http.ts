import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * How long an idle keep-alive connection stays open. Why not Node's 5 s: a reverse proxy in front
 * (ingress-nginx keeps upstream connections idle up to 60 s, the local stack's gateway as long as
 * we announce) may send a request on a connection at the very moment the server closes it, and
 * that request fails with a reset the proxy answers 502 — seen in a stress run through the local
 * stack, 4 to 10 POSTs in 5,000 after a pause of a few seconds. The server must be the last one to
 * give up on an idle connection.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * How long a client may take to send a request (docs/edge.md). Real clients send their headers at
 * once and a body of at most 100 kB right after; these only cut off a client that stalls or
 * trickles, which Node would otherwise let hold a connection for 60 s (headers) to 300 s (a body),
 * and behind a proxy one of the proxy's pooled connections too.
 */
export interface HttpTimeouts {
  /**
   * A request's headers must be complete this long after its first byte. Node (18+) times each
   * request of a kept-alive connection from its own first byte, not from the connection's start,
   * so this need not exceed the keep-alive timeout. At most `requestMs`.
   */
  headersMs: number;
  /** The whole request, headers and body, from its first byte. */
  requestMs: number;
  /**
   * No byte received while a request is arriving, or sent while its answer is going out, for this
   * long: the connection is closed (a request still arriving gets a 408). Not counted while the
   * handler works on a complete request, nor between requests (the keep-alive timeout is).
   */
  inactivityMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({ headersMs: 10_000, requestMs: 30_000, inactivityMs: 10_000 });

export interface HttpServerOptions {
  timeouts?: Partial<HttpTimeouts>;
  /** Only tests change it. */
  keepAliveMs?: number;
}

/** The one JSON error shape (see errors.ts), for answers written before or outside a route. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ code, errors: [{ message }] });
}

/** Answers with the JSON error shape through `res` (optionally closing the connection after). */
export function answerJson(res: ServerResponse, status: number, code: string, message: string, close = false): void {
  const body = errorBody(code, message);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * Answers a connection's current request with a JSON error written straight on the socket (no
 * response object exists, or it must not be used any more), then closes the connection.
 */
export function answerOnSocketAndClose(socket: Duplex, status: number, code: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Sent, or stuck behind a client that reads nothing: either way the connection goes.
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * What Node's parser and timers refuse before any route runs, as status, code and message. Node
 * itself would answer these with an empty body (or none): every error a client can receive has
 * the one JSON shape.
 */
function describeClientError(err: NodeJS.ErrnoException): [number, string, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'Request headers too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'payload_too_large', 'Chunk extensions too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'timeout', 'The request took too long to arrive'];
    case 'HPE_INVALID_METHOD':
      return [501, 'not_implemented', 'Unknown request method'];
    default:
      return [400, 'bad_request', 'Malformed request'];
  }
}

/**
 * An HTTP server with the timeouts above and the keep-alive rule of KEEP_ALIVE_TIMEOUT_MS, for the
 * services and the local stack's gateway alike; whatever it refuses before `listener` runs is
 * answered with the JSON error shape.
 */
export function createHttpServer(listener: RequestListener, options: HttpServerOptions = {}): http.Server {
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  // Node refuses a headers timeout longer than the request timeout.
  const headersMs = Math.min(timeouts.headersMs, timeouts.requestMs);
  /** Each connection's request being read or answered; absent between requests. */
  const current = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  /** Bytes a connection had read when its last exchange ended: more since is a request begun. */
  const readBefore = new WeakMap<Socket, number>();
  const server = http.createServer(
    {
      keepAliveTimeout: options.keepAliveMs ?? KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: headersMs,
      requestTimeout: timeouts.requestMs,
      // Node checks those two deadlines only this often (30 s by default): a deadline of seconds
      // needs a check about every second to be kept.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersMs / 4))),
      // Checked below instead, to answer in JSON (Node's own 400 has no body).
      requireHostHeader: false,
    },
    (req, res) => {
      const exchange = { req, res };
      current.set(req.socket, exchange);
      res.once('close', () => {
        if (current.get(req.socket) !== exchange) return;
        current.delete(req.socket);
        readBefore.set(req.socket, req.socket.bytesRead);
      });
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400.
        return answerJson(res, 400, 'bad_request', 'Host header required', true);
      }
      listener(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const res = current.get(socket as Socket)?.res;
    // A client that reset the connection reads nothing; an answer already started cannot change.
    if (err.code === 'ECONNRESET' || res?.headersSent) return void socket.destroy();
    const [status, code, message] = describeClientError(err);
    answerOnSocketAndClose(socket, status, code, message);
  });
  // A CONNECT would otherwise have its connection dropped without an answer.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    answerOnSocketAndClose(socket, 405, 'method_not_allowed', 'CONNECT is not supported'),
  );
  // An Expect other than 100-continue (Node's own 417 has no body).
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
    answerJson(res, 417, 'expectation_failed', 'Only "Expect: 100-continue" is supported', true),
  );
  server.timeout = timeouts.inactivityMs;
  // With a listener here Node leaves the socket to us, idle keep-alive connections included.
  server.on('timeout', (socket: Socket) => {
    const exchange = current.get(socket);
    if (!exchange) {
      // The first request's headers stopped arriving: 408 (on a kept-alive connection the
      // keep-alive timer runs until the headers are complete, and the headers timeout applies).
      // A connection that never sent a request is just closed.
      if (socket.bytesRead > (readBefore.get(socket) ?? 0))
        return answerOnSocketAndClose(socket, 408, 'timeout', 'The request stopped arriving');
      return void socket.destroy();
    }
    const { req, res } = exchange;
    if (!req.complete) {
      // A body that stopped arriving.
      if (res.headersSent) return void socket.destroy();
      return answerOnSocketAndClose(socket, 408, 'timeout', 'The request body stopped arriving');
    }
    // A complete request: the handler may be working (not the client's doing), unless an answer
    // is waiting for a client that reads nothing.
    if (socket.writableLength > 0) socket.destroy();
  });
  return server;
}

export interface HttpService {
  port: number;
  server: http.Server;
  /**
   * Stops accepting connections and lets requests in flight finish. Requests still arriving on an
   * open connection are served with `Connection: close`, so the client opens its next one
   * elsewhere; idle keep-alive connections are closed at once rather than after their timeout.
   */
  close(): Promise<void>;
}

/**
 * Serves `app` on `port` (0: any free port) of `options.host` (the `HOST` setting; Node's default,
 * every interface, only when none is given), with the timeouts and keep-alive settings above.
 */
export async function serveHttp(
  app: RequestListener,
  port: number,
  options: HttpServerOptions & { host?: string } = {},
): Promise<HttpService> {
  let closing = false;
  const server = createHttpServer((req, res) => {
    if (closing) res.setHeader('Connection', 'close');
    app(req, res);
  }, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => resolve());
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      closing = true;
      const dropIdle = setInterval(() => server.closeIdleConnections(), 50);
      server.close((err) => {
        clearInterval(dropIdle);
        if (err) reject(err);
        else resolve();
      });
      server.closeIdleConnections();
    });
  return { port: (server.address() as AddressInfo).port, server, close: () => (closed ??= close()) };
}
