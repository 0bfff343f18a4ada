import { ChildServer } from './child-server';
import { findBinary } from './local-paths';
import { freePort } from './net';

/**
 * Toxiproxy (built by infra/local/provision.mjs): a TCP proxy whose links can be slowed, limited,
 * reset or cut through its HTTP API, to put real network faults between a service and a server.
 */
export interface ToxicProxy {
  name: string;
  /** `127.0.0.1:<port>` where clients connect instead of the upstream. */
  listen: string;
  port: number;
  /** Adds a toxic (https://github.com/Shopify/toxiproxy#toxics); returns its name. */
  addToxic(
    type: string,
    attributes: Record<string, number>,
    options?: { stream?: 'upstream' | 'downstream'; name?: string },
  ): Promise<string>;
  removeToxic(name: string): Promise<void>;
  /** A partition: open connections are closed and new ones refused until `enable`. */
  disable(): Promise<void>;
  enable(): Promise<void>;
}

export interface ToxiproxyHandle {
  proxy(name: string, upstream: string): Promise<ToxicProxy>;
  stop(): Promise<void>;
}

export async function startToxiproxy(): Promise<ToxiproxyHandle> {
  const port = await freePort();
  const server = new ChildServer('toxiproxy', findBinary('toxiproxy-server'), ['-host', '127.0.0.1', '-port', String(port)], port);
  await server.start();
  const api = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(api + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    proxy: async (name, upstream) => {
      const listenPort = await freePort();
      const listen = `127.0.0.1:${listenPort}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      let toxics = 0;
      return {
        name,
        listen,
        port: listenPort,
        addToxic: async (type, attributes, options = {}) => {
          const toxic = options.name ?? `${type}-${++toxics}`;
          await call('POST', `/proxies/${name}/toxics`, {
            name: toxic,
            type,
            stream: options.stream ?? 'downstream',
            toxicity: 1,
            attributes,
          });
          return toxic;
        },
        removeToxic: async (toxic) => {
          await call('DELETE', `/proxies/${name}/toxics/${toxic}`);
        },
        disable: async () => {
          await call('POST', `/proxies/${name}`, { enabled: false });
        },
        enable: async () => {
          await call('POST', `/proxies/${name}`, { enabled: true });
        },
      };
    },
    stop: () => server.stop(),
  };
}
