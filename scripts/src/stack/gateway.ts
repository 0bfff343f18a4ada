import http from 'node:http';
import { answerJson, createHttpServer, type HttpTimeouts } from '@ticketing/common/testing';
import { normaliseRequestPath } from './request-path';

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

export interface GatewayOptions {
  /** Connections kept to each upstream address at most; requests beyond wait for one. */
  maxSockets?: number;
  /**
   * How long a client may take to send a request; the services' defaults otherwise. A body that
   * stops arriving gets a 408 and its upstream request is aborted with it.
   */
  timeouts?: Partial<HttpTimeouts>;
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
export function createGateway(routes: Route[], options: GatewayOptions = {}): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const turn = new Map<string, number>();
  /** Each upstream's URL, parsed once (the copies' addresses change only when a copy restarts). */
  const parsed = new Map<string, URL>();
  const upstreamUrl = (base: string) => {
    let url = parsed.get(base);
    if (!url) parsed.set(base, (url = new URL(base)));
    return url;
  };
  // The services' server: their timeouts, and their keep-alive rule (like ingress-nginx towards
  // browsers, 75 s): the client, not the gateway, closes an idle connection, so none is reused
  // just as it is closed (a reset; seen as a few failed requests per 5,000 in stress runs with
  // Node's default of 5 s).
  return createHttpServer((req, res) => {
    // Routed on, and forwarded as, the path with its dot-segments resolved (request-path.ts).
    const target = normaliseRequestPath(req.url ?? '/');
    if (!target.ok) return answerJson(res, 400, 'bad_request', target.reason);
    const { path } = target;
    const url = path + target.query;
    const route = routes.find((r) => path === r.prefix || path.startsWith(r.prefix + '/'));
    const upstreams = route?.upstreams() ?? [];
    if (!route || upstreams.length === 0) {
      if (route) answerJson(res, 503, 'unavailable', 'No copy of the service is running');
      else answerJson(res, 404, 'not_found', `No route for ${req.method} ${path}`);
      return;
    }
    const roundRobin = () => {
      const next = turn.get(route.prefix) ?? 0;
      turn.set(route.prefix, next + 1);
      return next;
    };
    const n = (route.byRecord ? recordTurn(path, route.prefix) : undefined) ?? roundRobin();
    const forward = (attempt: number) => {
      const copy = upstreamUrl(upstreams[(n + attempt) % upstreams.length]);
      // The path as given (not resolved against the copy's URL, which would normalise it again);
      // a retry takes a connection of its own: the pool may hold more that the server has closed.
      const upstream = http.request(
        {
          protocol: copy.protocol,
          hostname: copy.hostname,
          port: copy.port,
          path: url,
          method: req.method,
          headers: forwardedHeaders(req),
          agent: attempt === 0 ? agent : false,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // An answer cut off upstream is cut off here too (the client sees a reset, not a short
          // body that looks complete); a client that goes away drops the upstream answer (abandon,
          // below). `pipe`, not `stream.pipeline`: that builds an AbortController and a DOMException
          // (with its stack) for every request.
          answer.once('close', () => {
            if (!answer.complete) res.destroy();
          });
          answer.pipe(res);
        },
      );
      // A client that goes away (or whose request breaks) before its answer is complete takes its
      // upstream request with it. Without this the upstream request waited for a body that would
      // never come, holding one of the pool's connections: a few hundred stalled uploads left
      // every other request waiting for minutes.
      const abandon = () => {
        if (!res.writableFinished) upstream.destroy();
      };
      res.once('close', abandon);
      req.once('error', abandon);
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (res.destroyed) return; // the client left and took this request with it
        // A copy that just died, or a kept-alive connection its server closed just as we reused
        // it: a read is tried once more (on the next copy, if any); a write gets 502, since the
        // copy may have acted on it (the client may retry).
        const read = req.method === 'GET' || req.method === 'HEAD';
        const another = attempt + 1 < upstreams.length || (attempt === 0 && upstream.reusedSocket);
        if (read && another && !res.headersSent) {
          res.off('close', abandon);
          req.off('error', abandon);
          return forward(attempt + 1);
        }
        process.stderr.write(
          `gateway: ${req.method} ${url} → ${copy.origin}: ${err.code ?? err.message}${upstream.reusedSocket ? ' (reused connection)' : ''}\n`,
        );
        // Part of the answer is already out: ending it with an error body would make it look whole.
        if (res.headersSent) return void res.destroy();
        answerJson(res, 502, 'bad_gateway', 'Upstream unavailable');
      });
      if (req.method === 'GET' || req.method === 'HEAD') upstream.end();
      else req.pipe(upstream);
    };
    forward(0);
  }, options);
}
