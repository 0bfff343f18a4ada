/**
 * Every object in infra/k8s is validated against the Kubernetes OpenAPI schema (kubernetes-models),
 * and carries what a cluster needs from it: resource requests and limits, pinned images, no secrets.
 */
import { Deployment, StatefulSet, type IDeployment, type IStatefulSet } from 'kubernetes-models/apps/v1';
import { Gateway, HTTPRoute, type IGateway, type IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { Ingress, NetworkPolicy, type IIngress, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, type IConfigMap, type IService } from 'kubernetes-models/v1';
import { allContainers, BUILT_IMAGES, loadManifests, manifestFiles, workloads } from './manifests';

/** The kinds this project deploys. Anything else is a mistake or needs adding here on purpose. */
const VALIDATORS: Record<string, (doc: object) => void> = {
  'apps/v1 Deployment': (doc) => new Deployment(doc as IDeployment).validate(),
  'apps/v1 StatefulSet': (doc) => new StatefulSet(doc as IStatefulSet).validate(),
  'v1 Service': (doc) => new Service(doc as IService).validate(),
  'v1 ConfigMap': (doc) => new ConfigMap(doc as IConfigMap).validate(),
  'networking.k8s.io/v1 Ingress': (doc) => new Ingress(doc as IIngress).validate(),
  'networking.k8s.io/v1 NetworkPolicy': (doc) => new NetworkPolicy(doc as INetworkPolicy).validate(),
  'policy/v1 PodDisruptionBudget': (doc) => new PodDisruptionBudget(doc as IPodDisruptionBudget).validate(),
  'gateway.networking.k8s.io/v1 Gateway': (doc) => new Gateway(doc as IGateway).validate(),
  'gateway.networking.k8s.io/v1 HTTPRoute': (doc) => new HTTPRoute(doc as IHTTPRoute).validate(),
};

const manifests = loadManifests();
const ownImages: string[] = BUILT_IMAGES;

describe('infra/k8s manifests', () => {
  it('are there to check', () => {
    expect(manifestFiles().length).toBeGreaterThan(0);
    expect(manifests.length).toBeGreaterThan(0);
  });

  it.each(manifests.map((m) => [m.source, m.doc] as const))('%s is a valid object of a known kind', (_source, doc) => {
    const key = `${String(doc.apiVersion)} ${String(doc.kind)}`;
    const validate = VALIDATORS[key];
    if (!validate) throw new Error(`unexpected kind "${key}"; known kinds: ${Object.keys(VALIDATORS).join(', ')}`);
    expect(() => validate(doc)).not.toThrow();
  });

  it('name every object, uniquely per kind', () => {
    const keys = manifests.map((m) => {
      const metadata = m.doc.metadata as { name?: unknown } | undefined;
      expect({ source: m.source, name: typeof metadata?.name }).toEqual({ source: m.source, name: 'string' });
      return `${String(m.doc.kind)}/${String(metadata?.name)}`;
    });
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('commit no Secret: jwt-secret is created by hand (docs/kubernetes.md)', () => {
    expect(manifests.filter((m) => m.doc.kind === 'Secret').map((m) => m.source)).toEqual([]);
  });

  describe.each(workloads().map((w) => [`${w.kind} ${w.name}`, w] as const))('%s', (_label, workload) => {
    const containers = allContainers(workload.template);

    it('has containers', () => {
      expect(containers.length).toBeGreaterThan(0);
    });

    it.each(containers.map((c) => [c.name, c] as const))('container %s requests and limits cpu and memory', (_name, container) => {
      const { requests = {}, limits = {} } = container.resources ?? {};
      expect({ requests: Object.keys(requests).sort(), limits: Object.keys(limits).sort() }).toEqual({
        requests: ['cpu', 'memory'],
        limits: ['cpu', 'memory'],
      });
    });

    it.each(containers.map((c) => [c.name, c] as const))(
      'container %s runs a pinned image (or one that skaffold builds)',
      (_name, container) => {
        const image = container.image ?? '';
        if (ownImages.includes(image)) return; // skaffold replaces it with the tag it just built
        const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
        const pinned = image.includes('@sha256:') || (tag !== undefined && tag !== 'latest' && /\d+\.\d+/.test(tag));
        expect({ image, pinned }).toEqual({ image, pinned: true });
      },
    );
  });
});
