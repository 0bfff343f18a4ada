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
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path,
          method,
          agent,
          headers: payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
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

/**
 * `fetch` over the same kept-alive `http.request` connections, for the typed API client
 * (`@ticketing/client`), which takes any fetch: the stress script then speaks through the
 * contract's types at a fraction of undici's cost per request.
 */
export function keptAliveFetch(maxSockets: number): typeof fetch {
  const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets }), 'https:': new https.Agent({ keepAlive: true, maxSockets }) };
  return async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const transport = url.protocol === 'https:' ? https : http;
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    if (body) headers['content-length'] = String(body.length);
    const answer = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
      const req = transport.request(url, { method: request.method, agent: agents[url.protocol as 'http:' | 'https:'], headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
          resolve({ status: res.statusCode ?? 0, headers: responseHeaders, text: Buffer.concat(chunks).toString() });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const empty = answer.status === 204 || answer.status === 304;
    return new Response(empty ? null : answer.text, { status: answer.status, headers: answer.headers });
  };
}
