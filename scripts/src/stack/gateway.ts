import http from 'node:http';
import { KEEP_ALIVE_TIMEOUT_MS } from '@ticketing/common';

export interface Route {
  prefix: string;
  /** Upstream base URLs; requests are spread round-robin over the ones that answer. */
  upstreams: () => string[];
  /**
   * Requests that name one record (`<prefix>/<id>…`) all go to the same copy, as long as the
   * copies stay the same; the others still take turns. Why: a tickets copy starts an edit from the
   * ticket as it last wrote it, without reading it, and taking turns made most edits find the
   * other copy's memory stale (a write that matches nothing, then the read).
   */
  byRecord?: boolean;
}

/** A number that is the same for every request naming this record (FNV-1a of its id). */
function recordTurn(url: string, prefix: string): number | undefined {
  const id = /^\/([^/?#]+)/.exec(url.slice(prefix.length))?.[1];
  if (!id) return undefined;
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * The request's headers with the client's address added to `X-Forwarded-For`, as a proxy does: the
 * services trust one hop (TRUST_PROXY_HOPS) and take the last address, which is then the one this
 * gateway saw, not one the client wrote (the rate limit counts anonymous clients by it).
 */
function forwardedHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const prior = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? 'unknown';
  return { ...req.headers, 'x-forwarded-for': prior ? `${prior}, ${client}` : client };
}

/**
 * The one origin of the local stack: routes `/api/tickets…` and `/api/orders…` to the services,
 * as the Kubernetes ingress does in a cluster; a route with the prefix `''`, tried last, takes
 * every other path (the web app).
 */
export function createGateway(routes: Route[]): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const turn = new Map<string, number>();
  // Like the services, and like ingress-nginx towards browsers (75 s): the client, not the
  // gateway, closes an idle connection, so none is reused just as it is closed (a reset; seen as
  // a few failed requests per 5,000 in stress runs with Node's default of 5 s).
  const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
    const url = req.url ?? '/';
    const route = routes.find((r) => url === r.prefix || url.startsWith(r.prefix + '/') || url.startsWith(r.prefix + '?'));
    const upstreams = route?.upstreams() ?? [];
    if (!route || upstreams.length === 0) {
      res.writeHead(route ? 503 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: route ? 'No copy of the service is running' : `No route for ${url}` }] }));
      return;
    }
    const roundRobin = () => {
      const next = turn.get(route.prefix) ?? 0;
      turn.set(route.prefix, next + 1);
      return next;
    };
    const n = (route.byRecord ? recordTurn(url, route.prefix) : undefined) ?? roundRobin();
    const forward = (attempt: number) => {
      const target = new URL(url, upstreams[(n + attempt) % upstreams.length]);
      // A retry takes a connection of its own: the pool may hold more that the server has closed.
      const upstream = http.request(
        target,
        { method: req.method, headers: forwardedHeaders(req), agent: attempt === 0 ? agent : false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        // A copy that just died, or a kept-alive connection its server closed just as we reused
        // it: a read is tried once more (on the next copy, if any); a write gets 502, since the
        // copy may have acted on it (the client may retry).
        const read = req.method === 'GET' || req.method === 'HEAD';
        const another = attempt + 1 < upstreams.length || (attempt === 0 && upstream.reusedSocket);
        if (read && another && !res.headersSent) return forward(attempt + 1);
        process.stderr.write(
          `gateway: ${req.method} ${url} → ${target.origin}: ${err.code ?? err.message}${upstream.reusedSocket ? ' (reused connection)' : ''}\n`,
        );
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Upstream unavailable' }] }));
      });
      if (req.method === 'GET' || req.method === 'HEAD') upstream.end();
      else req.pipe(upstream);
    };
    forward(0);
  });
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  return server;
}
