/**
 * The Gateway API route (gateway.yaml) and the Ingress (ingress.yaml) are two ways into the same
 * APIs: they must route the same host and paths to the same Service ports, and both serve HTTPS
 * for ticketing.dev with the same hand-made TLS Secret (never committed), plain HTTP only
 * redirecting.
 */
import { named, ofKind } from './manifests';
import { httpRouteRoutes, ingressRoutes, type Route } from './routes';
import { resolveServicePort } from './service-routing';

const HOST = 'ticketing.dev';

/** A route with its port as the number the Service port resolves to, for comparison. */
const normalised = (r: Route): string =>
  `${r.host} ${r.pathPrefix} -> ${r.service}:${resolveServicePort(r.service, r.port)[0]?.servicePort.port}`;

describe('the Gateway API route', () => {
  it('sends the same host and paths to the same Service ports as the Ingress', () => {
    const viaGateway = httpRouteRoutes().map(normalised).sort();
    expect(viaGateway.length).toBeGreaterThan(0);
    expect(viaGateway).toEqual(ingressRoutes().map(normalised).sort());
  });

  it(`attaches the API routes to an HTTPS listener for ${HOST} that terminates TLS`, () => {
    const apiRoutes = ofKind('HTTPRoute').filter((r) => (r.spec.rules ?? []).some((rule) => (rule.backendRefs ?? []).length > 0));
    expect(apiRoutes.length).toBeGreaterThan(0);
    for (const route of apiRoutes) {
      expect(route.spec.hostnames).toEqual([HOST]);
      expect(route.spec.parentRefs?.length).toBeGreaterThan(0);
      for (const parent of route.spec.parentRefs ?? []) {
        const gateway = named(ofKind('Gateway'), parent.name, 'Gateway');
        const listeners = gateway.spec.listeners.filter((l) => parent.sectionName === undefined || l.name === parent.sectionName);
        expect(listeners.length).toBeGreaterThan(0);
        for (const listener of listeners) {
          expect({ listener: listener.name, protocol: listener.protocol, port: listener.port, host: listener.hostname }).toEqual({
            listener: listener.name,
            protocol: 'HTTPS',
            port: 443,
            host: HOST,
          });
          expect(listener.tls?.mode ?? 'Terminate').toBe('Terminate');
        }
      }
    }
  });

  it('answers plain HTTP only with a redirect to HTTPS', () => {
    const httpListeners = ofKind('Gateway').flatMap((g) =>
      g.spec.listeners.filter((l) => l.protocol === 'HTTP').map((l) => ({ gateway: g.metadata?.name, listener: l.name })),
    );
    for (const { gateway, listener } of httpListeners) {
      const routes = ofKind('HTTPRoute').filter((r) =>
        (r.spec.parentRefs ?? []).some((p) => p.name === gateway && (p.sectionName === undefined || p.sectionName === listener)),
      );
      expect(routes.length).toBeGreaterThan(0);
      for (const rule of routes.flatMap((r) => r.spec.rules ?? [])) {
        expect(rule.backendRefs ?? []).toEqual([]);
        expect(rule.filters?.map((f) => [f.type, f.requestRedirect?.scheme])).toEqual([['RequestRedirect', 'https']]);
      }
    }
  });
});

describe('TLS', () => {
  it(`is served for ${HOST} by the Ingress and the Gateway with one Secret (made by hand: k8s-schema.test.ts refuses a committed one)`, () => {
    const ingressSecrets = ofKind('Ingress').flatMap((i) =>
      (i.spec?.tls ?? []).filter((t) => t.hosts?.includes(HOST)).map((t) => t.secretName),
    );
    const gatewaySecrets = ofKind('Gateway').flatMap((g) =>
      g.spec.listeners
        .filter((l) => l.protocol === 'HTTPS' && l.hostname === HOST)
        .flatMap((l) => (l.tls?.certificateRefs ?? []).map((ref) => `${ref.kind ?? 'Secret'}/${ref.name}`)),
    );
    expect(ingressSecrets).toHaveLength(1);
    expect(gatewaySecrets).toEqual([`Secret/${ingressSecrets[0]}`]);
  });
});

describe('the Gateway API route’s timeouts', () => {
  /** A Gateway API duration (GEP-2257: `1h`, `30s`, `500ms`, combined) in milliseconds. */
  const duration = (value: string | undefined): number => {
    if (!value || !/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(value)) throw new Error(`not a Gateway API duration: "${value}"`);
    const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
    return [...value.matchAll(/(\d+)(ms|h|m|s)/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
  };

  it('bounds every routed exchange, and each try towards a copy, to seconds', () => {
    const rules = ofKind('HTTPRoute').flatMap((r) => (r.spec.rules ?? []).filter((rule) => (rule.backendRefs ?? []).length > 0));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const request = duration(rule.timeouts?.request);
      const backendRequest = duration(rule.timeouts?.backendRequest);
      expect(request).toBeGreaterThanOrEqual(10_000);
      expect(request).toBeLessThan(60_000);
      expect(backendRequest).toBeLessThanOrEqual(request); // the spec requires it
    }
  });
});
