import http from 'node:http';

export interface Route {
  prefix: string;
  /** Upstream base URLs; requests are spread round-robin over the ones that answer. */
  upstreams: () => string[];
}

/**
 * The one origin of the local stack: routes `/api/tickets…` and `/api/orders…` to the services,
 * as the Kubernetes ingress does in a cluster.
 */
export function createGateway(routes: Route[]): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const turn = new Map<string, number>();
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    const route = routes.find((r) => url === r.prefix || url.startsWith(r.prefix + '/') || url.startsWith(r.prefix + '?'));
    const upstreams = route?.upstreams() ?? [];
    if (!route || upstreams.length === 0) {
      res.writeHead(route ? 503 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: route ? 'No copy of the service is running' : `No route for ${url}` }] }));
      return;
    }
    const n = turn.get(route.prefix) ?? 0;
    turn.set(route.prefix, n + 1);
    const forward = (attempt: number) => {
      const target = new URL(url, upstreams[(n + attempt) % upstreams.length]);
      const upstream = http.request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        // A copy that just died: the request body was not consumed by it, try the next one once
        // for idempotent reads; writes get 502 (the client may retry).
        if (attempt + 1 < upstreams.length && (req.method === 'GET' || req.method === 'HEAD')) return forward(attempt + 1);
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Upstream unavailable' }] }));
      });
      if (req.method === 'GET' || req.method === 'HEAD') upstream.end();
      else req.pipe(upstream);
    };
    forward(0);
  });
}
