import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { KEEP_ALIVE_TIMEOUT_MS, serveHttp, type HttpService } from './serve-http';
import { sleep, waitFor } from '../testing/helpers';
import { acceptsConnection, otherAddressesOfThisMachine } from '../testing/net';
import { rawExchange } from '../testing/raw-http';
import { silentLogger } from '../logger';
import { createServiceApp } from './service-app';

/** The one JSON error shape, with its code. */
const jsonError = (code: string) => ({ code, errors: [{ message: expect.any(String) }] });

/** A raw client connection, to see exactly when the server closes it. */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let ended = false;
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('end', () => (ended = true));
  socket.on('error', () => (ended = true));
  return {
    socket,
    ended: () => ended,
    received: () => received,
    /** Sends a GET and resolves with the response head once it has arrived. */
    async get(path: string): Promise<string> {
      const before = received.length;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      for (let i = 0; i < 200 && !received.slice(before).includes('\r\n\r\n'); i++) await sleep(10);
      return received.slice(before);
    },
  };
}

describe('serveHttp', () => {
  let service: HttpService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('when a kept-alive connection stays idle past Node’s default 5 s, then the server keeps it open and serves the next request on it', async () => {
    service = await serveHttp((_req, res) => res.end('ok'), 0);
    // A plain Node server keeping idle connections a little longer than Node's default, with a
    // connection idle beside this one: its closing shows that the default has passed.
    const plain = http.createServer({ keepAliveTimeout: 5_500 }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const client = await connect(service.port);
      const beside = await connect((plain.address() as AddressInfo).port);
      const first = await client.get('/one');
      expect(first).toMatch(/^HTTP\/1.1 200/);
      expect(first.toLowerCase()).toContain(`keep-alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
      expect(await beside.get('/one')).toMatch(/^HTTP\/1.1 200/);
      await waitFor(() => beside.ended(), { what: 'Node’s default keep-alive timeout to pass', timeoutMs: 15_000 });
      expect(client.ended()).toBe(false);
      expect(await client.get('/two')).toMatch(/^HTTP\/1.1 200/);
      client.socket.destroy();
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  }, 20_000);

  it('when closed with a request in flight and an idle connection open, then the request finishes and both connections are closed at once', async () => {
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    service = await serveHttp(async (req, res) => {
      if (req.url === '/slow') {
        arrived();
        await released;
      }
      res.end('done');
    }, 0);
    const idle = await connect(service.port);
    await idle.get('/warm-up');
    const busy = await connect(service.port);
    const answer = busy.get('/slow');
    await inHandler;
    const closed = service.close();
    release();
    const head = await answer;
    expect(head).toMatch(/^HTTP\/1.1 200/);
    await closed; // would wait for the keep-alive timeout (65 s) if idle connections were left open
    expect(idle.ended()).toBe(true);
    await waitFor(() => busy.ended(), { what: 'the busy connection to be closed after its answer' });
  }, 20_000);

  it('when given a host, then it listens on that address only: other addresses of this machine are refused', async () => {
    service = await serveHttp((_req, res) => res.end('ok'), 0, { host: '127.0.0.1' });
    expect(service.server.address()).toMatchObject({ address: '127.0.0.1', port: service.port });
    expect(await acceptsConnection(service.port, '127.0.0.1')).toBe(true);
    for (const address of otherAddressesOfThisMachine())
      expect({ address, open: await acceptsConnection(service.port, address) }).toEqual({ address, open: false });
  });

  it('when given no host, then it listens on every interface (what the check above would see without HOST)', async () => {
    service = await serveHttp((_req, res) => res.end('ok'), 0);
    for (const address of otherAddressesOfThisMachine())
      expect({ address, open: await acceptsConnection(service.port, address) }).toEqual({ address, open: true });
  });
});

describe('serveHttp timeouts (raw sockets; short timeouts so that the tests are quick)', () => {
  let service: HttpService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });
  /** Reads the body, as express.json does, then answers. */
  const echo = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ body }));
    });
  };
  /** Writes `text` a piece at a time until it is all sent or the server closes the connection. */
  async function trickle(client: Awaited<ReturnType<typeof connect>>, text: string, every: number, size = 1) {
    let sent = 0;
    const giveUp = Date.now() + 20_000; // a server that never cuts it off fails the test, not hangs it
    while (sent < text.length && !client.ended() && Date.now() < giveUp) {
      client.socket.write(text.slice(sent, sent + size));
      sent += size;
      await sleep(every);
    }
    return sent;
  }

  it('when headers arrive a byte at a time, then the connection is answered 408 and closed once the headers timeout passes', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 1000, requestMs: 5000, inactivityMs: 5000 } });
    const client = await connect(service.port);
    const headers = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    const sent = await trickle(client, headers, 100);
    expect(client.ended()).toBe(true);
    expect(sent).toBeLessThan(headers.length);
    expect(client.received()).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(client.received().split('\r\n\r\n')[1])).toEqual(jsonError('timeout'));
  }, 30_000);

  it('when a body keeps trickling and never finishes, then the request timeout cuts it off with a 408', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 1000, requestMs: 2000, inactivityMs: 5000 } });
    const client = await connect(service.port);
    client.socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    const sent = await trickle(client, 'x'.repeat(100_000), 100, 10);
    expect(client.ended()).toBe(true);
    expect(sent).toBeLessThan(100_000);
    expect(client.received()).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(client.received().split('\r\n\r\n')[1])).toEqual(jsonError('timeout'));
  }, 30_000);

  it('when a body stops arriving, then the connection is answered 408 (JSON) and closed once the inactivity timeout passes', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 1000, requestMs: 60_000, inactivityMs: 1000 } });
    const client = await connect(service.port);
    client.socket.write(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n',
    );
    await waitFor(() => client.ended(), { what: 'the server to close the stalled upload', timeoutMs: 15_000 });
    const [head, body] = client.received().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 408 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({ code: 'timeout', errors: [{ message: expect.any(String) }] });
  }, 30_000);

  it('when headers stop arriving, then a 408 (JSON) closes the connection: on a new one after the inactivity timeout, on a kept-alive one after the headers timeout', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 1000, requestMs: 60_000, inactivityMs: 1000 } });
    const fresh = await connect(service.port);
    const kept = await connect(service.port);
    expect(await kept.get('/first')).toMatch(/^HTTP\/1.1 200 /);
    const before = kept.received().length;
    for (const client of [fresh, kept]) client.socket.write('GET /next HTTP/1.1\r\nHost: 127.');
    await waitFor(() => fresh.ended() && kept.ended(), { what: 'the server to close both stalled requests', timeoutMs: 15_000 });
    for (const received of [fresh.received(), kept.received().slice(before)]) {
      const [head, body] = received.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1.1 408 /);
      expect(JSON.parse(body)).toEqual(jsonError('timeout'));
    }
  }, 30_000);

  it('when a client is slow-ish but steady, then its request is answered', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 2000, requestMs: 4000, inactivityMs: 1500 } });
    const client = await connect(service.port);
    const body = JSON.stringify({ title: 'concert', price: 10 });
    await trickle(
      client,
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      150,
      30,
    );
    await trickle(client, body, 150, 10);
    await waitFor(() => client.received().includes('\r\n\r\n{'), { what: 'the answer' });
    expect(client.received()).toMatch(/^HTTP\/1.1 200 /);
    expect(client.received()).toContain(JSON.stringify({ body }));
    expect(client.ended()).toBe(false);
    client.socket.destroy();
  }, 30_000);

  it('when the handler works on a complete request for longer than the inactivity timeout, then it still answers', async () => {
    service = await serveHttp(
      async (_req, res) => {
        await sleep(1500);
        res.end('done');
      },
      0,
      { timeouts: { headersMs: 500, requestMs: 1000, inactivityMs: 300 } },
    );
    const client = await connect(service.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor(() => client.received().includes('done') || client.ended(), { what: 'the answer' });
    expect(client.received()).toMatch(/^HTTP\/1.1 200 /);
    client.socket.destroy();
  }, 30_000);

  it('when a kept-alive connection waits longer than the headers timeout between requests, then its next request is still answered (each request is timed from its own first byte)', async () => {
    service = await serveHttp(echo, 0, { timeouts: { headersMs: 500, requestMs: 1000, inactivityMs: 500 } });
    const client = await connect(service.port);
    expect(await client.get('/one')).toMatch(/^HTTP\/1.1 200/);
    // Requests on other connections whose headers stop arriving, one after the other: the second's
    // 408 shows that the headers timeout has passed since this connection's last request, and
    // that the server has checked its deadlines since (it does so only every so often).
    for (let i = 0; i < 2; i++) {
      const stalled = await connect(service.port);
      stalled.socket.write('GET /stalled HTTP/1.1\r\nHost: 127.');
      await waitFor(() => stalled.ended(), { what: 'the stalled request to be cut off', timeoutMs: 15_000 });
      expect(stalled.received()).toMatch(/^HTTP\/1.1 408 /);
    }
    expect(client.ended()).toBe(false);
    expect(await client.get('/two')).toMatch(/^HTTP\/1.1 200/);
    client.socket.destroy();
  }, 30_000);

  it('when a connection is idle, then it is still closed by the keep-alive timeout; one that never sends a request, by the inactivity timeout', async () => {
    service = await serveHttp(echo, 0, { timeouts: { inactivityMs: 500 }, keepAliveMs: 500 });
    const used = await connect(service.port);
    expect(await used.get('/one')).toMatch(/^HTTP\/1.1 200/);
    const silent = await connect(service.port);
    await waitFor(() => used.ended() && silent.ended(), { what: 'both idle connections to be closed' });
    expect(silent.received()).toBe('');
  }, 30_000);
});

describe('a service’s answers to requests refused before any route runs (raw sockets)', () => {
  let service: HttpService;
  beforeAll(async () => {
    const app = createServiceApp({ logger: silentLogger, jwtKey: 'a-long-enough-key', readiness: {}, stats: () => ({}), routers: [] });
    service = await serveHttp(app, 0);
  });
  afterAll(() => service.close());

  it.each([
    ['its headers are too large', 431, 'headers_too_large', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['its request line is malformed', 400, 'bad_request', 'GET /healthz HTTX/1.1\r\nHost: x\r\n\r\n'],
    ['a header is malformed', 400, 'bad_request', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'],
    ['its method is unknown', 501, 'not_implemented', 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['it is a CONNECT', 405, 'method_not_allowed', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['an HTTP/1.1 request has no Host', 400, 'bad_request', 'GET /healthz HTTP/1.1\r\n\r\n'],
    [
      'it expects something other than 100-continue',
      417,
      'expectation_failed',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n',
    ],
    ['no route takes its (known) method', 404, 'not_found', 'PROPFIND /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ] as const)('when %s, then the answer is %i with the JSON error shape', async (_what, status, code, request) => {
    const answer = await rawExchange(service.port, request);
    expect({ status: answer.status, json: answer.json }).toEqual({ status, json: jsonError(code) });
    expect(answer.head).toContain('content-type: application/json');
  });

  it.each([
    '/api/orders/../../internal/stats',
    '/api/tickets/%2e%2e/%2e%2e/internal/stats',
    '/api/tickets/%2E%2e/%2e%2E/metrics',
    '/api/tickets/..%2f..%2finternal/stats',
    '/api/tickets/..\\..\\internal/stats',
  ])('when %s is sent to a service directly, then its routing takes the path as it is (no dot-segment resolution): 404', async (target) => {
    const answer = await rawExchange(service.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect({ status: answer.status, json: answer.json }).toEqual({ status: 404, json: jsonError('not_found') });
    const direct = await rawExchange(service.port, 'GET /internal/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(direct.status).toBe(200); // the internal route itself is there: only the path does not reach it
  });
});
