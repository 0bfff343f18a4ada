import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or its text when it is not JSON. */
  body: any;
}

/**
 * One request on a connection of its own (as the many clients of a burst would), from `from`:
 * any 127.x.y.z is a loopback address of its own on Linux, so a test can be several clients.
 */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; from?: string } = {},
): Promise<RawAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        agent: false,
        localAddress: options.from ?? '127.0.0.1',
        headers: { ...options.headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text (/metrics)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface SlowRequest {
  /** Resolves once the server has read the headers and handed the request to its app. */
  started: Promise<void>;
  /** Sends the rest of the body. */
  finish(): void;
  response: Promise<{ status: number; text: string }>;
}

/**
 * A POST whose body arrives in two parts: the headers and the first bytes now, the rest when
 * `finish` is called, so that a test can act while the request is in flight. It asks for
 * `Expect: 100-continue`: Node answers it when it hands the request to the app, which is how the
 * test knows the server has it (a connection merely accepted by the kernel could still be dropped).
 */
export function startSlowRequest(port: number, path: string, body: string, headers: Record<string, string> = {}): SlowRequest {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', ...headers },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const started = new Promise<void>((resolve, reject) => {
    req.once('continue', () => req.write(body.slice(0, 5), () => resolve()));
    req.once('error', reject);
  });
  req.flushHeaders();
  return { started, finish: () => req.end(body.slice(5)), response };
}
