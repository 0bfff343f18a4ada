/**
 * The "Run in Kubernetes" instructions name the same secret, host and Deployment as the manifests.
 * They live in infra/k8s/README-section.md until pasted into README.md; either place counts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageOf, named, ofKind, readRepoFile, ROOT } from './manifests';
import { appContainer, envVar } from './service-routing';

function runInKubernetesSection(): string {
  const section = 'infra/k8s/README-section.md';
  if (existsSync(join(ROOT, section))) return readRepoFile(section);
  const readme = existsSync(join(ROOT, 'README.md')) ? readRepoFile('README.md') : '';
  const start = readme.search(/^#+ Run in Kubernetes/m);
  if (start < 0) throw new Error(`neither ${section} nor a "Run in Kubernetes" section in README.md`);
  return readme.slice(start);
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
