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
