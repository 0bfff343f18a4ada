/**
 * The Ingress serves both APIs on one origin (ticketing.dev) through ingress-nginx, each API path
 * reaching the pods of the service that owns it.
 */
import { imageOf, ofKind, readRepoFile, SERVICES, WEB_IMAGE } from './manifests';
import { resolveServicePort } from './service-routing';

const HOST = 'ticketing.dev';

describe('the Ingress', () => {
  const ingresses = ofKind('Ingress');
  const rule = ingresses[0]?.spec?.rules?.find((r) => r.host === HOST);
  const paths = rule?.http?.paths ?? [];

  it(`is one nginx Ingress for ${HOST}`, () => {
    expect(ingresses).toHaveLength(1);
    expect(ingresses[0].spec?.ingressClassName).toBe('nginx');
    expect(rule).toBeDefined();
  });

  it('has no two rules for the same path', () => {
    const keys = paths.map((p) => p.path);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it.each(SERVICES)('routes /api/%s and everything under it to the service pods', (service) => {
    const path = paths.find((p) => p.path === `/api/${service}`);
    expect(path?.pathType).toBe('Prefix');
    const backend = path?.backend.service;
    expect(backend?.name).toBe(service);
    const port = backend?.port?.number ?? backend?.port?.name;
    if (backend === undefined || port === undefined) throw new Error(`/api/${service} has no service backend port`);
    const targets = resolveServicePort(backend.name, port);
    expect(targets.map((t) => t.container.image)).toEqual([imageOf(service)]);
  });

  it('routes every other path (the web app, /auth/…) to the web pods', () => {
    const path = paths.find((p) => p.path === '/');
    expect(path?.pathType).toBe('Prefix');
    const backend = path?.backend.service;
    const port = backend?.port?.number ?? backend?.port?.name;
    if (backend === undefined || port === undefined) throw new Error('/ has no service backend port');
    expect(resolveServicePort(backend.name, port).map((t) => t.container.image)).toEqual([WEB_IMAGE]);
  });
});

/**
 * The Ingress's own timeouts and limits (ingress-nginx annotations; the client header and body
 * timeouts exist only controller-wide, in its ConfigMap: docs/kubernetes.md). Timeouts are whole
 * seconds, as ingress-nginx reads them.
 */
describe('the Ingress’s timeouts and limits', () => {
  const annotations = (): Record<string, string> => ofKind('Ingress')[0]?.metadata?.annotations ?? {};
  const seconds = (name: string): number => {
    const value = annotations()[`nginx.ingress.kubernetes.io/${name}`];
    expect({ name, value, wholeSeconds: /^\d+$/.test(value ?? '') }).toEqual({ name, value, wholeSeconds: true });
    return Number(value);
  };
  /** An nginx size (`100k`, `1m`, bytes) in bytes. */
  const bytes = (name: string): number => {
    const value = annotations()[`nginx.ingress.kubernetes.io/${name}`] ?? '';
    const match = /^(\d+)([km]?)$/i.exec(value);
    if (!match) throw new Error(`${name} is not an nginx size: "${value}"`);
    return Number(match[1]) * { '': 1, k: 1024, m: 1024 * 1024 }[match[2].toLowerCase() as '' | 'k' | 'm'];
  };
  /** What the services accept (express.json's limit in common/src/http/service-app.ts). */
  const SERVICE_BODY_LIMIT = 100 * 1024;

  it('gives up on a copy that does not accept a connection within seconds', () => {
    expect(seconds('proxy-connect-timeout')).toBeGreaterThanOrEqual(1);
    expect(seconds('proxy-connect-timeout')).toBeLessThanOrEqual(10);
  });

  it('gives up on a copy that stops reading the request or sending its answer within seconds, not the minute of the default', () => {
    for (const name of ['proxy-send-timeout', 'proxy-read-timeout']) {
      expect(seconds(name)).toBeGreaterThanOrEqual(10); // a slow listing under load must still be answered
      expect(seconds(name)).toBeLessThan(60);
    }
  });

  it('refuses bodies larger than the services accept, and reads each body whole (in memory) before a service sees it', () => {
    expect(bytes('proxy-body-size')).toBe(SERVICE_BODY_LIMIT);
    expect(bytes('client-body-buffer-size')).toBeGreaterThanOrEqual(bytes('proxy-body-size'));
    expect(annotations()['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('on');
  });
});

/** The ingress-nginx annotations that limit a client; a misspelt one would be ignored by the controller. */
const LIMIT_ANNOTATIONS = [
  'limit-rps',
  'limit-rpm',
  'limit-burst-multiplier',
  'limit-connections',
  'limit-rate',
  'limit-rate-after',
  'limit-whitelist',
  'limit-allowlist',
].map((name) => `nginx.ingress.kubernetes.io/${name}`);

describe('the Ingress limits each client address', () => {
  const annotations = ofKind('Ingress')[0]?.metadata?.annotations ?? {};
  const limits = Object.entries(annotations).filter(([name]) => /^nginx\.ingress\.kubernetes\.io\/limit[-_]/.test(name));
  const wholeNumber = (name: string) => {
    const value = annotations[`nginx.ingress.kubernetes.io/${name}`];
    expect(value).toMatch(/^[1-9]\d*$/);
    return Number(value);
  };

  it('with limit annotations ingress-nginx knows', () => {
    expect(limits.length).toBeGreaterThan(0);
    expect(limits.map(([name]) => name).filter((name) => !LIMIT_ANNOTATIONS.includes(name))).toEqual([]);
  });

  it('in requests per second with a burst, and in connections at once', () => {
    const rps = wholeNumber('limit-rps');
    const burst = rps * wholeNumber('limit-burst-multiplier');
    const connections = wholeNumber('limit-connections');
    // Room for the stress script's default run through the cluster: its 200 writers and 4 readers.
    expect(connections).toBeGreaterThanOrEqual(204);
    expect(burst).toBeGreaterThan(rps);
  });

  it('with the numbers docs/edge.md gives', () => {
    const doc = readRepoFile('docs/edge.md');
    for (const [name, value] of limits) expect(doc).toContain(`${name.replace('nginx.ingress.kubernetes.io/', '')}: "${value}"`);
  });
});
