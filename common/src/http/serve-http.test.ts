import net from 'node:net';
import { once } from 'node:events';
import { KEEP_ALIVE_TIMEOUT_MS, serveHttp, type HttpService } from './serve-http';
import { sleep } from '../testing/helpers';
import { acceptsConnection, otherAddressesOfThisMachine } from '../testing/net';

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
    const client = await connect(service.port);
    const first = await client.get('/one');
    expect(first).toMatch(/^HTTP\/1.1 200/);
    expect(first.toLowerCase()).toContain(`keep-alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
    await sleep(6000);
    expect(client.ended()).toBe(false);
    expect(await client.get('/two')).toMatch(/^HTTP\/1.1 200/);
    client.socket.destroy();
  }, 20_000);

  it('when closed with a request in flight and an idle connection open, then the request finishes and both connections are closed at once', async () => {
    service = await serveHttp(async (_req, res) => {
      await sleep(300);
      res.end('done');
    }, 0);
    const idle = await connect(service.port);
    await idle.get('/warm-up');
    const busy = await connect(service.port);
    const answer = busy.get('/slow');
    await sleep(50);
    const closed = service.close();
    const head = await answer;
    expect(head).toMatch(/^HTTP\/1.1 200/);
    await closed; // would wait for the keep-alive timeout (65 s) if idle connections were left open
    expect(idle.ended()).toBe(true);
    await sleep(50);
    expect(busy.ended()).toBe(true);
  }, 20_000);

  it('when given a host, then it listens on that address only: other addresses of this machine are refused', async () => {
    service = await serveHttp((_req, res) => res.end('ok'), 0, '127.0.0.1');
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
