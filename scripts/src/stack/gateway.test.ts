import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
