import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

/**
 * How long an idle keep-alive connection stays open. Why not Node's 5 s: a reverse proxy in front
 * (ingress-nginx keeps upstream connections idle up to 60 s, the local stack's gateway as long as
 * we announce) may send a request on a connection at the very moment the server closes it, and
 * that request fails with a reset the proxy answers 502 — seen in a stress run through the local
 * stack, 4 to 10 POSTs in 5,000 after a pause of a few seconds. The server must be the last one to
 * give up on an idle connection.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

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
 * Serves `app` on `port` (0: any free port) of `host` (the `HOST` setting; Node's default, every
 * interface, only when none is given), with the keep-alive settings above.
 */
export async function serveHttp(app: RequestListener, port: number, host?: string): Promise<HttpService> {
  let closing = false;
  const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
    if (closing) res.setHeader('Connection', 'close');
    app(req, res);
  });
  // Headers of a request on a kept-alive connection must be allowed at least as long.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
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
