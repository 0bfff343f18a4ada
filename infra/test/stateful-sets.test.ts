/**
 * Stateful backing services (one MongoDB per service, NATS): each StatefulSet has its headless
 * Service for stable pod names and keeps its data on volumes from its claim templates.
 */
import { allContainers, named, ofKind, SERVICES } from './manifests';
import { selects } from './service-routing';

describe.each(ofKind('StatefulSet').map((s) => [s.metadata?.name ?? '', s] as const))('StatefulSet %s', (_name, statefulSet) => {
  it('has a headless Service named after its serviceName that selects its pods', () => {
    const service = named(ofKind('Service'), statefulSet.spec?.serviceName ?? '', 'Service');
    expect(service.spec?.clusterIP).toBe('None');
    expect(selects(service, statefulSet.spec?.template ?? {})).toBe(true);
  });

  it('mounts every volume claim template in a container', () => {
    const templates = (statefulSet.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
    expect(templates.length).toBeGreaterThan(0);
    const mounted = allContainers(statefulSet.spec?.template ?? {}).flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name));
    expect(mounted).toEqual(expect.arrayContaining(templates));
  });

  it('has a selector that matches its own pods', () => {
    const matchLabels = statefulSet.spec?.selector.matchLabels ?? {};
    expect(Object.keys(matchLabels).length).toBeGreaterThan(0);
    expect(statefulSet.spec?.template.metadata?.labels ?? {}).toMatchObject(matchLabels);
  });
});

describe.each(SERVICES)('MongoDB of %s', (service) => {
  it(`is the StatefulSet ${service}-mongo, keeping /data/db on its volume`, () => {
    const statefulSet = named(ofKind('StatefulSet'), `${service}-mongo`, 'StatefulSet');
    const mongo = statefulSet.spec?.template.spec?.containers.find((c) => /^mongo:/.test(c.image ?? ''));
    const claims = (statefulSet.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
    const dataMount = mongo?.volumeMounts?.find((m) => m.mountPath === '/data/db');
    expect(dataMount).toBeDefined();
    expect(claims).toContain(dataMount?.name);
  });
});
