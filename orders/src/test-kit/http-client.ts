import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A bare HTTP client over kept-alive sockets, for races: supertest opens a connection per request
 * and spends milliseconds on each, which spreads "concurrent" requests out until they no longer
 * overlap. With warmed sockets every request is on the wire within a millisecond or two.
 */
export class RaceClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly server: http.Server,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** Opens the sockets beforehand so that connecting is not part of the race. */
  async warm(sockets: number): Promise<void> {
    await Promise.all(Array.from({ length: sockets }, () => this.send('GET', '/healthz')));
  }

  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: (this.server.address() as AddressInfo).port,
          method,
          path,
          headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
