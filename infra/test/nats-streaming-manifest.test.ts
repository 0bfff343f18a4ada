/**
 * The optional NATS Streaming deployment (infra/k8s/nats-streaming/, not applied by skaffold):
 * valid objects, a file store on the volume, and switch commands that name real Deployments and
 * values the services accept.
 */
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1';
import { Service, type IService } from 'kubernetes-models/v1';
import { parseConfig, serviceEnvShape } from '@ticketing/common';
import { loadManifests, named, ofKind, optionalManifestFiles, parseYamlDocuments, switchCommands } from './manifests';
import { selects } from './service-routing';

const FILE = 'infra/k8s/nats-streaming/nats-streaming.yaml';
const docs = parseYamlDocuments(FILE).map((m) => m.doc);
const statefulSet = docs.find((d) => d.kind === 'StatefulSet') as unknown as IStatefulSet;
const service = docs.find((d) => d.kind === 'Service') as unknown as IService;
const container = statefulSet.spec!.template.spec!.containers[0];
const args = container.args ?? [];
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

const switches = () => switchCommands(FILE);

describe('the optional NATS Streaming deployment', () => {
  it('is among the manifests every rule applies to (hardening, schema, network policies)', () => {
    expect(optionalManifestFiles()).toContain(FILE);
    expect(loadManifests().filter((m) => m.source.startsWith(`${FILE}#`)).length).toBe(docs.length);
  });

  it('is a valid StatefulSet and Service, with the network policies it needs', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['NetworkPolicy', 'NetworkPolicy', 'Service', 'StatefulSet']);
    expect(() => new StatefulSet(statefulSet).validate()).not.toThrow();
    expect(() => new Service(service).validate()).not.toThrow();
  });

  it('runs the last server release, pinned, with requests and limits', () => {
    expect(container.image).toBe('nats-streaming:0.25.6-alpine');
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it('keeps its file store on the volume of its claim template, with no limit that drops events', () => {
    expect(arg('store')).toBe('FILE');
    const mount = container.volumeMounts?.find((m) => m.mountPath === arg('dir'));
    expect(mount?.name).toBe(statefulSet.spec!.volumeClaimTemplates![0].metadata?.name);
    expect([arg('max_msgs'), arg('max_bytes')]).toEqual(['0', '0']);
  });

  it('has a headless Service named after the StatefulSet that selects its pods on the client port', () => {
    expect(service.metadata?.name).toBe(statefulSet.spec?.serviceName);
    expect(service.spec?.clusterIP).toBe('None');
    expect(selects(service, statefulSet.spec!.template)).toBe(true);
    expect(service.spec?.ports?.find((p) => p.name === 'client')?.port).toBe(4222);
  });

  it('documents switching the services there and back with values their configuration accepts', () => {
    const [there, back] = switches();
    for (const command of [there, back]) {
      for (const name of command.deployments) expect(named(ofKind('Deployment'), name, 'Deployment').metadata?.name).toBe(name);
      expect(command.deployments.sort()).toEqual(['orders', 'tickets']);
    }
    const env = { MONGO_URL: 'mongodb://m:27017/x', JWT_KEY: 'a-long-enough-key', ...there.env };
    const config = parseConfig(serviceEnvShape, env);
    expect(config.EVENT_BUS).toBe('nats-streaming');
    expect(config.STAN_CLUSTER_ID).toBe(arg('cluster_id'));
    expect(new URL(config.NATS_URL).hostname).toBe(service.metadata?.name);
    expect(Number(new URL(config.NATS_URL).port)).toBe(4222);
    expect(parseConfig(serviceEnvShape, { ...env, ...back.env }).EVENT_BUS).toBe('jetstream');
    // back on the JetStream cluster's client Service
    expect(new URL(back.env.NATS_URL).hostname).toBe(named(ofKind('Service'), 'nats-client', 'Service').metadata?.name);
  });
});
