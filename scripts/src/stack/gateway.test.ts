import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { rawExchange, waitFor } from '@ticketing/common/testing';
import { createGateway } from './gateway';

/**
 * An upstream that serves the first request of each connection and drops the connection, unanswered,
 * on the second: what a server does when it closes an idle kept-alive connection just as the
 * gateway reuses it.
 */
async function upstreamClosingReusedConnections() {
  const served: string[] = [];
  const server = http.createServer((req, res) => {
    const socket = req.socket as typeof req.socket & { requests?: number };
    socket.requests = (socket.requests ?? 0) + 1;
    if (socket.requests > 1) return socket.destroy();
    served.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, served, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the local stack gateway (real HTTP servers)', () => {
  let upstream: Awaited<ReturnType<typeof upstreamClosingReusedConnections>>;
  let gateway: http.Server;
  let base: string;
  const send = async (method: string, path: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : '{}',
    });
    return res.status;
  };

  beforeEach(async () => {
    upstream = await upstreamClosingReusedConnections();
    gateway = createGateway([{ prefix: '/api/tickets', upstreams: () => [upstream.url] }]);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    gateway.closeAllConnections();
    upstream.server.closeAllConnections();
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => upstream.server.close(r));
  });

  it('when a read meets a kept-alive connection the upstream has closed, then it is sent again on a new connection and answered', async () => {
    expect(await send('GET', '/api/tickets/1')).toBe(200);
    expect(await send('GET', '/api/tickets/2')).toBe(200); // the pooled connection is dropped: retried
    expect(upstream.served).toEqual(['GET /api/tickets/1', 'GET /api/tickets/2']);
  });

  it('when a write meets it, then it is not sent again (the upstream may have acted on it): 502', async () => {
    const errors = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await send('GET', '/api/tickets/1')).toBe(200);
      expect(await send('POST', '/api/tickets')).toBe(502);
      expect(upstream.served).toEqual(['GET /api/tickets/1']);
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('POST /api/tickets'));
    } finally {
      errors.mockRestore();
    }
  });
});

describe('the local stack gateway with several copies of a service (real HTTP servers)', () => {
  const copies: { server: http.Server; url: string; served: string[] }[] = [];
  let gateway: http.Server;
  let base: string;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const served: string[] = [];
      const server = http.createServer((req, res) => {
        served.push(req.url ?? '');
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      copies.push({ server, served, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    }
    gateway = createGateway([{ prefix: '/api/tickets', upstreams: () => copies.map((c) => c.url), byRecord: true }]);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    gateway.closeAllConnections();
    await new Promise((r) => gateway.close(r));
    for (const c of copies) {
      c.server.closeAllConnections();
      await new Promise((r) => c.server.close(r));
    }
  });

  it('when requests name a record, then all of them reach one copy, and different records are spread over the copies', async () => {
    const ids = Array.from({ length: 13 }, (_, i) => `ticket-${i}`); // odd: taking turns would move each id
    for (let round = 0; round < 3; round++) {
      for (const id of ids) expect((await fetch(`${base}/api/tickets/${id}`, { method: 'PUT', body: '{}' })).status).toBe(200);
    }
    const copyOf = (id: string) => copies.filter((c) => c.served.includes(`/api/tickets/${id}`));
    for (const id of ids) {
      expect(copyOf(id)).toHaveLength(1);
      expect(copyOf(id)[0].served.filter((u) => u === `/api/tickets/${id}`)).toHaveLength(3);
    }
    expect(copies.every((c) => c.served.length > 0)).toBe(true);
  });

  it('when requests name no record (a listing, a create), then the copies take turns', async () => {
    const before = copies.map((c) => c.served.length);
    for (let i = 0; i < 4; i++) await fetch(`${base}/api/tickets?limit=5`);
    expect(copies.map((c, i) => c.served.length - before[i])).toEqual([2, 2]);
  });
});

describe('the gateway with the web app behind the empty prefix', () => {
  it('sends the API prefixes to their services and every other path to the web app', async () => {
    const servers = await Promise.all(
      ['tickets', 'orders', 'web'].map(async (name) => {
        const server = http.createServer((req, res) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ name, url: req.url }));
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
        return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
      }),
    );
    const [tickets, orders, web] = servers;
    const gateway = createGateway([
      { prefix: '/api/tickets', upstreams: () => [tickets.url] },
      { prefix: '/api/orders', upstreams: () => [orders.url] },
      { prefix: '', upstreams: () => [web.url] },
    ]);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    try {
      const who = async (path: string) => ((await (await fetch(base + path)).json()) as { name: string }).name;
      expect(await who('/api/tickets/openapi.json')).toBe('tickets');
      expect(await who('/api/orders?x=1')).toBe('orders');
      expect(await who('/')).toBe('web');
      expect(await who('/app.js')).toBe('web');
      expect(await who('/auth/session')).toBe('web');
      expect(await who('/api/ticketsfoo')).toBe('web');
    } finally {
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
      for (const { server } of servers) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    }
  });
});

describe('the gateway when clients go away or upstreams break mid-answer (real sockets)', () => {
  let upstream: http.Server;
  let gateway: http.Server;
  let port: number;
  const received = { started: 0, abandoned: 0 };

  beforeEach(async () => {
    received.started = 0;
    received.abandoned = 0;
    // Reads whole bodies before answering, as the services do; Node's own limits on this server
    // are minutes, so only the gateway can free what a stalled upload holds.
    upstream = http.createServer((req, res) => {
      received.started++;
      req.on('close', () => {
        if (!req.complete) received.abandoned++;
      });
      if (req.url === '/api/tickets/broken') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = createGateway([{ prefix: '/api/tickets', upstreams: () => [upstreamUrl] }], {
      maxSockets: 2,
      timeouts: { headersMs: 2000, requestMs: 20_000, inactivityMs: 1000 },
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    port = (gateway.address() as AddressInfo).port;
  });
  afterEach(async () => {
    gateway.closeAllConnections();
    upstream.closeAllConnections();
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => upstream.close(r));
  });

  it('when more uploads than the upstream pool holds stall and their clients leave, then a read through the gateway is still answered', async () => {
    const stalled = await Promise.all(
      [1, 2, 3].map(async () => {
        const socket = net.connect(port, '127.0.0.1');
        await once(socket, 'connect');
        socket.on('error', () => undefined);
        socket.write(
          'POST /api/tickets HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n',
        );
        return socket;
      }),
    );
    await waitFor(() => received.started === 2, { what: 'the two pooled connections to be taken by stalled uploads' });
    for (const socket of stalled) socket.destroy();
    // Generous bound, not a timing check: before the fix this read waited for minutes.
    const res = await fetch(`http://127.0.0.1:${port}/api/tickets`, { signal: AbortSignal.timeout(15_000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    await waitFor(() => received.abandoned === 2, { what: 'the upstream requests of the clients that left to be aborted' });
  }, 30_000);

  it('when a body stops arriving, then the client gets a JSON 408 and the upstream request is aborted', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    let closed = false;
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.write(
      'POST /api/tickets HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n',
    );
    await waitFor(() => closed, { what: 'the gateway to close the stalled upload', timeoutMs: 15_000 });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 408 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({ code: 'timeout', errors: [{ message: expect.any(String) }] });
    await waitFor(() => received.abandoned === 1, { what: 'the upstream request to be aborted' });
  }, 30_000);

  it('when the upstream breaks off an answer it has started, then the client’s answer is broken off too, not left open', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/tickets/broken`, { signal: AbortSignal.timeout(15_000) });
    expect(res.status).toBe(200);
    const error = await res.text().then(
      () => new Error('the cut-off answer was read as complete'),
      (err: Error) => err,
    );
    expect(error.name).not.toMatch(/TimeoutError|AbortError/); // left open, it would only end at the bound
    expect(error.message).toMatch(/terminated|aborted|socket/i);
  }, 30_000);
});

describe('the gateway’s own answers (raw sockets)', () => {
  let gateway: http.Server;
  let port: number;
  let deadUpstream: string;
  beforeAll(async () => {
    // An address where nothing listens: a copy that died.
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    deadUpstream = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    gateway = createGateway([
      { prefix: '/api/tickets', upstreams: () => [] },
      { prefix: '/api/orders', upstreams: () => [deadUpstream] },
    ]);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    port = (gateway.address() as AddressInfo).port;
  });
  afterAll(async () => {
    gateway.closeAllConnections();
    await new Promise((r) => gateway.close(r));
  });
  const jsonError = (code: string) => ({ code, errors: [{ message: expect.any(String) }] });
  const close = 'Host: localhost\r\nConnection: close\r\n\r\n';

  it.each([
    ['no route takes the path', 404, 'not_found', `GET /elsewhere HTTP/1.1\r\n${close}`],
    ['no copy of the service runs', 503, 'unavailable', `GET /api/tickets HTTP/1.1\r\n${close}`],
    ['the copy cannot be reached', 502, 'bad_gateway', `POST /api/orders HTTP/1.1\r\nContent-Length: 2\r\n${close}{}`],
    ['the headers are too large', 431, 'headers_too_large', `GET /api/tickets HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n${close}`],
    ['the method is unknown', 501, 'not_implemented', `BREW /api/tickets HTTP/1.1\r\n${close}`],
    ['the request line is malformed', 400, 'bad_request', `GET /api/tickets HTTX/1.1\r\n${close}`],
  ] as const)('when %s, then the answer is %i with the JSON error shape', async (_what, status, code, request) => {
    const errors = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const answer = await rawExchange(port, request);
      expect({ status: answer.status, json: answer.json }).toEqual({ status, json: jsonError(code) });
      expect(answer.head).toContain('content-type: application/json');
    } finally {
      errors.mockRestore();
    }
  });
});

describe('the gateway’s routing of paths that try to leave /api (raw sockets: fetch would normalise them first)', () => {
  const served: Record<string, string[]> = { tickets: [], orders: [], web: [] };
  const servers: http.Server[] = [];
  let withWeb: http.Server;
  let apiOnly: http.Server;
  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const name of Object.keys(served)) {
      const server = http.createServer((req, res) => {
        served[name].push(req.url ?? '');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ name, url: req.url }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      servers.push(server);
      urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    const api = [
      { prefix: '/api/tickets', upstreams: () => [urls.tickets] },
      { prefix: '/api/orders', upstreams: () => [urls.orders] },
    ];
    withWeb = createGateway([...api, { prefix: '', upstreams: () => [urls.web] }]);
    apiOnly = createGateway(api);
    for (const gateway of [withWeb, apiOnly]) await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    for (const server of [withWeb, apiOnly, ...servers]) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
  const get = (gateway: http.Server, target: string) =>
    rawExchange((gateway.address() as AddressInfo).port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);

  it.each([
    ['/api/orders/../../internal/stats', 'web', '/internal/stats'],
    ['/api/tickets/%2e%2e/%2e%2e/internal/stats', 'web', '/internal/stats'],
    ['/api/tickets/%2E%2e/.%2E/metrics', 'web', '/metrics'],
    ['/api/orders/%2e%2e/tickets/1', 'tickets', '/api/tickets/1'],
    ['/api/orders/./x/../1?y=../z', 'orders', '/api/orders/1?y=../z'],
    ['/api/tickets/%252e%252e/%252e%252e/internal/stats', 'tickets', '/api/tickets/%252e%252e/%252e%252e/internal/stats'],
  ])('%s is decided and forwarded on its normalised path: %s gets %s', async (target, name, url) => {
    const answer = await get(withWeb, target);
    expect({ status: answer.status, json: answer.json }).toEqual({ status: 200, json: { name, url } });
  });

  it.each([
    '/api/tickets/..%2f..%2finternal/stats',
    '/api/tickets/..%2F..%2Finternal/stats',
    '/api/tickets/..\\..\\internal/stats',
    '/api/orders/..%5c..%5cinternal/stats',
  ])('%s (an encoded slash or a backslash) is refused with 400', async (target) => {
    const answer = await get(withWeb, target);
    expect({ status: answer.status, json: answer.json }).toEqual({
      status: 400,
      json: { code: 'bad_request', errors: [{ message: expect.any(String) }] },
    });
  });

  it('without a web route, a path that leaves /api after normalisation is 404', async () => {
    for (const target of ['/api/orders/../../internal/stats', '/api/tickets/%2e%2e/%2e%2e/metrics']) {
      const answer = await get(apiOnly, target);
      expect({ target, status: answer.status, json: answer.json }).toEqual({
        target,
        status: 404,
        json: { code: 'not_found', errors: [{ message: expect.any(String) }] },
      });
    }
  });

  it('after all of the above, no service was asked for anything outside its /api prefix', () => {
    expect(served.tickets.length + served.orders.length).toBeGreaterThan(0);
    for (const name of ['tickets', 'orders']) expect(served[name].filter((u) => !u.startsWith(`/api/${name}`))).toEqual([]);
  });
});

describe('the gateway and X-Forwarded-For (real HTTP servers)', () => {
  it('when a client sends its own X-Forwarded-For, then the gateway adds the address it saw last, the one a service trusting one hop keys on', async () => {
    const seen: (string | undefined)[] = [];
    const upstream = http.createServer((req, res) => {
      seen.push(req.headers['x-forwarded-for'] as string | undefined);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const gateway = createGateway([
      { prefix: '/api/tickets', upstreams: () => [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`] },
    ]);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/api/tickets`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200);
      expect((await fetch(`${base}/api/tickets`)).status).toBe(200);
      expect(seen).toEqual(['203.0.113.9, 127.0.0.1', '127.0.0.1']);
    } finally {
      gateway.closeAllConnections();
      upstream.closeAllConnections();
      await new Promise((r) => gateway.close(r));
      await new Promise((r) => upstream.close(r));
    }
  });
});
