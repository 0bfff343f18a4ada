/**
 * The "Run in Kubernetes" instructions name the same secret, host and Deployment as the manifests.
 */
import { allContainers, imageOf, named, ofKind, readRepoFile, workloads } from './manifests';
import { appContainer, envVar } from './service-routing';

function runInKubernetesSection(): string {
  const readme = readRepoFile('docs/kubernetes.md');
  const start = readme.search(/^#+ Run in Kubernetes/m);
  if (start < 0) throw new Error('docs/kubernetes.md has no "Run in Kubernetes" section');
  const end = readme.slice(start + 1).search(/^# /m);
  return end < 0 ? readme.slice(start) : readme.slice(start, start + 1 + end);
}

describe('the "Run in Kubernetes" instructions', () => {
  const text = runInKubernetesSection();

  it('create the Secret that the Deployments read JWT_KEY from', () => {
    const ref = envVar(appContainer('tickets', imageOf('tickets')), 'JWT_KEY')?.valueFrom?.secretKeyRef;
    expect(text).toContain(`kubectl create secret generic ${ref?.name} --from-literal=${ref?.key}=`);
  });

  it('map the Ingress host to the local machine', () => {
    const host = ofKind('Ingress')[0]?.spec?.rules?.[0]?.host;
    expect(text).toContain(`127.0.0.1 ${host}`);
  });

  it('start the dev loop and scale a Deployment that exists', () => {
    expect(text).toContain('skaffold dev');
    const scaled = /kubectl scale deployment (\S+) --replicas=\d+/.exec(text)?.[1] ?? '';
    expect(named(ofKind('Deployment'), scaled, 'Deployment').metadata?.name).toBe('orders');
    expect(text).toContain('/api/orders/tickets/');
  });
});

describe('docs/kubernetes.md', () => {
  const docs = (): string => `${runInKubernetesSection()}\n${readRepoFile('docs/kubernetes.md')}`;

  it('creates every Secret key the workloads read', () => {
    const refs = workloads().flatMap((w) =>
      allContainers(w.template).flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []))),
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const command = new RegExp(`kubectl create secret generic ${ref.name}\\b[^]*?(?=\\n\\n|\`\`\`)`).exec(docs())?.[0] ?? '';
      expect({ secret: ref.name, key: ref.key, created: command.includes(`--from-literal=${ref.key}=`) }).toEqual({
        secret: ref.name,
        key: ref.key,
        created: true,
      });
    }
  });

  it('creates the TLS Secret the Ingress and the Gateway serve', () => {
    const names = [
      ...ofKind('Ingress').flatMap((i) => (i.spec?.tls ?? []).map((t) => t.secretName)),
      ...ofKind('Gateway').flatMap((g) => g.spec.listeners.flatMap((l) => (l.tls?.certificateRefs ?? []).map((r) => r.name))),
    ];
    expect(names.length).toBeGreaterThan(0);
    for (const name of new Set(names)) expect(docs()).toContain(`kubectl create secret tls ${name} `);
  });
});
