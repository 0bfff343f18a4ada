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
