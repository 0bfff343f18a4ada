import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  text: string;
}

/** Sends a request and resolves with its status and body; rejects only when no answer came. */
export type Send = (method: string, path: string, body?: unknown) => Promise<Answer>;

/**
 * A plain `http.request` client over kept-alive connections, for the stress script: it shares the
 * machine with the stack it loads, and costs about half of what `fetch` does per request. HTTPS
 * (a cluster's ingress) honours NODE_TLS_REJECT_UNAUTHORIZED, which `--insecure` sets.
 */
export function httpClient(baseUrl: string, headers: Record<string, string>, maxSockets: number): Send {
  const base = new URL(baseUrl);
  const transport = base.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets });
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = transport.request(
        new URL(path, base),
        {
          method,
          agent,
          headers: { ...headers, ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}
