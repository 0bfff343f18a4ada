/**
 * NetworkPolicies: nothing may talk to anything except what the wiring needs. The expected
 * connections are derived from the manifests, not listed by name, so a workload added later is
 * held to the same rules:
 * - the ingress controller and the Gateway's proxies reach the pods the Ingress/HTTPRoutes route to;
 * - a pod reaches the pods behind a Service that one of its env vars names as a URL
 *   (MONGO_URL, NATS_URL, ...), on that port, and nothing else;
 * - pods of one workload reach each other on a port named "cluster" (NATS routes);
 * - every pod may ask the cluster DNS;
 * - Prometheus (in the monitoring namespace) reaches the pods whose template asks to be scraped
 *   (prometheus.io/scrape), on the port they name (prometheus.io/port).
 * Every other pair of (sender, receiver port) among the workloads, the edge, a stranger pod and
 * the outside world must be refused.
 */
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IContainer } from 'kubernetes-models/v1';
import { allContainers, ofKind, optionalManifestFiles, switchCommands, workloads, type Workload } from './manifests';
import { APP_NAMESPACE, connectionAllowed, type Endpoint, type Protocol } from './network-policy';
import { httpRouteRoutes, ingressRoutes } from './routes';
import { resolveServicePort } from './service-routing';

const policies = ofKind('NetworkPolicy');

const endpointOf = (w: Workload): Endpoint => ({
  name: `${w.kind} ${w.name}`,
  namespace: APP_NAMESPACE,
  labels: w.template.metadata?.labels ?? {},
  ports: allContainers(w.template).flatMap((c) => c.ports ?? []),
});

/** ingress-nginx's controller pods, in its usual namespace. */
const INGRESS_CONTROLLER: Endpoint = {
  name: 'ingress-nginx controller',
  namespace: 'ingress-nginx',
  labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
};
/** Proxies a Gateway API implementation runs for the Gateway in its own namespace (GEP-1762 label). */
const gatewayProxy = (gateway: string): Endpoint => ({
  name: `proxy of Gateway ${gateway}`,
  namespace: APP_NAMESPACE,
  labels: { 'gateway.networking.k8s.io/gateway-name': gateway },
});
/** The cluster's Prometheus, as kube-prometheus and the prometheus chart label it, in its usual namespace. */
const PROMETHEUS: Endpoint = { name: 'Prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const KUBE_DNS: Endpoint = { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const STRANGER: Endpoint = { name: 'a stranger pod (kubectl run)', namespace: APP_NAMESPACE, labels: { run: 'debug' } };
const OTHER_NAMESPACE: Endpoint = {
  name: 'a pod of another namespace',
  namespace: 'default',
  labels: { 'app.kubernetes.io/name': 'tickets' },
};
const OUTSIDE: Endpoint = { name: 'an address outside the cluster', labels: {} };

const edge = (): Endpoint[] => [INGRESS_CONTROLLER, ...ofKind('Gateway').map((g) => gatewayProxy(g.metadata?.name ?? ''))];

interface Connection {
  from: string;
  to: string;
  port: number;
}
const key = (c: Connection): string => `${c.from} -> ${c.to}:${c.port}`;

/** Literal env values that are URLs of a Service in the manifests (comma-separated lists too). */
function serviceUrls(container: IContainer): URL[] {
  return serviceUrlsIn((container.env ?? []).map((e) => e.value ?? ''));
}

function serviceUrlsIn(values: string[]): URL[] {
  const services = new Set(ofKind('Service').map((s) => s.metadata?.name));
  return values
    .flatMap((value) => value.split(','))
    .flatMap((value) => {
      try {
        return [new URL(value.trim())];
      } catch {
        return [];
      }
    })
    .filter((url) => services.has(url.hostname.split('.')[0]));
}

const DEFAULT_PORTS: Record<string, number> = { 'mongodb:': 27017, 'nats:': 4222, 'http:': 80 };

function expectedConnections(): Connection[] {
  const expected: Connection[] = [];
  for (const route of [...ingressRoutes(), ...httpRouteRoutes()]) {
    for (const backend of resolveServicePort(route.service, route.port)) {
      for (const sender of edge()) {
        expected.push({ from: sender.name, to: endpointOf(backend.workload).name, port: backend.containerPort });
      }
    }
  }
  const reaches = (workload: Workload, url: URL) => {
    const port = Number(url.port || DEFAULT_PORTS[url.protocol]);
    for (const backend of resolveServicePort(url.hostname.split('.')[0], port)) {
      expected.push({ from: endpointOf(workload).name, to: endpointOf(backend.workload).name, port: backend.containerPort });
    }
  };
  // What the optional manifests' switch commands point the services at (e.g. NATS Streaming).
  for (const command of optionalManifestFiles().flatMap(switchCommands)) {
    for (const name of command.deployments) {
      const workload = workloads().find((w) => w.kind === 'Deployment' && w.name === name);
      if (!workload) throw new Error(`a switch command names deployment/${name}, which infra/k8s does not have`);
      for (const url of serviceUrlsIn(Object.values(command.env))) reaches(workload, url);
    }
  }
  for (const workload of workloads()) {
    for (const url of allContainers(workload.template).flatMap(serviceUrls)) reaches(workload, url);
    const annotations = workload.template.metadata?.annotations ?? {};
    if (annotations['prometheus.io/scrape'] === 'true') {
      expected.push({ from: PROMETHEUS.name, to: endpointOf(workload).name, port: Number(annotations['prometheus.io/port']) });
    }
    for (const clusterPort of endpointOf(workload).ports?.filter((p) => p.name === 'cluster') ?? []) {
      expected.push({ from: endpointOf(workload).name, to: endpointOf(workload).name, port: clusterPort.containerPort });
    }
  }
  return expected;
}

/** The manifests do not change during a run: derived once, not for every receiver. */
let expectedKeys: Set<string> | undefined;
const expectedConnectionKeys = (): Set<string> => (expectedKeys ??= new Set(expectedConnections().map(key)));

describe('NetworkPolicies', () => {
  it('deny everything by default, in and out, for every pod', () => {
    const denyAll = policies.filter(
      (p) =>
        Object.keys(p.spec?.podSelector ?? {}).every((k) => k === 'matchLabels' || k === 'matchExpressions') &&
        Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length === 0 &&
        (p.spec?.podSelector?.matchExpressions ?? []).length === 0 &&
        [...(p.spec?.policyTypes ?? [])].sort().join() === 'Egress,Ingress' &&
        (p.spec?.ingress ?? []).length === 0 &&
        (p.spec?.egress ?? []).length === 0,
    );
    expect(denyAll).toHaveLength(1);
  });

  it('find the wiring they must allow', () => {
    const names = expectedConnectionKeys();
    // The wiring the services are known to need; anything new is found the same way.
    for (const connection of [
      'ingress-nginx controller -> Deployment tickets:3000',
      'proxy of Gateway ticketing -> Deployment orders:3000',
      'Deployment tickets -> StatefulSet tickets-mongo:27017',
      'Deployment orders -> StatefulSet nats:4222',
      'StatefulSet nats -> StatefulSet nats:6222',
      // once switched onto the optional NATS Streaming server
      'Deployment orders -> StatefulSet nats-streaming:4222',
      'Prometheus -> Deployment tickets:3000',
      'Prometheus -> Deployment orders:3000',
    ]) {
      expect(names).toContain(connection);
    }
  });

  const senders = (): Endpoint[] => [...workloads().map(endpointOf), ...edge(), PROMETHEUS, STRANGER, OTHER_NAMESPACE, OUTSIDE];

  it.each(workloads().map((w) => [w.name, w] as const))(
    'let %s resolve names through the cluster DNS (UDP and TCP 53)',
    (_name, workload) => {
      for (const protocol of ['UDP', 'TCP'] as Protocol[]) {
        expect({ protocol, allowed: connectionAllowed(policies, endpointOf(workload), KUBE_DNS, 53, protocol) }).toEqual({
          protocol,
          allowed: true,
        });
      }
    },
  );

  it.each(workloads().map((w) => [`${w.kind} ${w.name}`, w] as const))(
    'let %s receive exactly the connections the wiring needs',
    (_name, workload) => {
      const receiver = endpointOf(workload);
      const expected = expectedConnectionKeys();
      const ports = [...new Set((receiver.ports ?? []).map((p) => p.containerPort))];
      expect(ports.length).toBeGreaterThan(0);
      const wrong: string[] = [];
      for (const sender of senders()) {
        for (const port of ports) {
          const connection = key({ from: sender.name, to: receiver.name, port });
          const allowed = connectionAllowed(policies, sender, receiver, port);
          if (allowed !== expected.has(connection)) wrong.push(`${connection} is ${allowed ? 'allowed' : 'refused'}`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it.each(workloads().map((w) => [`${w.kind} ${w.name}`, w] as const))(
    'let %s open no connection to the outside, a stranger pod or another namespace',
    (_name, workload) => {
      const sender = endpointOf(workload);
      for (const receiver of [OUTSIDE, STRANGER, OTHER_NAMESPACE, INGRESS_CONTROLLER]) {
        for (const port of [80, 443, 3000, 4222, 27017]) {
          expect({ to: receiver.name, port, allowed: connectionAllowed(policies, sender, receiver, port) }).toEqual({
            to: receiver.name,
            port,
            allowed: false,
          });
        }
      }
    },
  );

  it("select only pods that exist: a workload's, or the proxies of a Gateway (a policy for a renamed one protects nothing)", () => {
    const podLabels = [
      ...workloads().map((w) => w.template.metadata?.labels ?? {}),
      ...edge()
        .filter((e) => e.namespace === APP_NAMESPACE)
        .map((e) => e.labels),
    ];
    for (const policy of policies) {
      const selector = policy.spec?.podSelector ?? {};
      if (Object.keys(selector.matchLabels ?? {}).length === 0) continue;
      const matches = podLabels.some((labels) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
      expect({ policy: policy.metadata?.name, selects: matches }).toEqual({ policy: policy.metadata?.name, selects: true });
    }
  });
});

describe('connectionAllowed', () => {
  const a: Endpoint = { name: 'a', namespace: APP_NAMESPACE, labels: { app: 'a' } };
  const b: Endpoint = { name: 'b', namespace: APP_NAMESPACE, labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8080 }] };
  const policy = (spec: INetworkPolicy['spec']): INetworkPolicy => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec });
  const deny = policy({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

  it('allows everything with no policy, nothing under a default deny', () => {
    expect(connectionAllowed([], a, b, 8080)).toBe(true);
    expect(connectionAllowed([deny], a, b, 8080)).toBe(false);
  });

  it('needs both the egress of the sender and the ingress of the receiver', () => {
    const egress = policy({
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
    });
    const ingress = policy({
      podSelector: { matchLabels: { app: 'b' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'http' }] }],
    });
    expect(connectionAllowed([deny, egress], a, b, 8080)).toBe(false);
    expect(connectionAllowed([deny, ingress], a, b, 8080)).toBe(false);
    expect(connectionAllowed([deny, egress, ingress], a, b, 8080)).toBe(true);
    expect(connectionAllowed([deny, egress, ingress], a, b, 9090)).toBe(false);
    expect(connectionAllowed([deny, egress, ingress], a, b, 8080, 'UDP')).toBe(false);
    expect(connectionAllowed([deny, egress, ingress], { ...a, namespace: 'other' }, b, 8080)).toBe(false);
  });

  it('matches namespaces by their name label and treats an ipBlock as any address', () => {
    const fromNs = policy({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }] }],
    });
    expect(connectionAllowed([fromNs], { ...a, namespace: 'other' }, b, 8080)).toBe(true);
    expect(connectionAllowed([fromNs], a, b, 8080)).toBe(false);
    const wide = policy({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] });
    expect(connectionAllowed([wide], a, b, 8080)).toBe(true);
  });
});
