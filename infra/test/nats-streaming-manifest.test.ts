/**
 * The optional NATS Streaming deployment (infra/k8s/nats-streaming/, not applied by skaffold):
 * valid objects, a file store on the volume, and switch commands that name real Deployments and
 * values the services accept.
 */
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1';
import { Service, type IService } from 'kubernetes-models/v1';
import { parseConfig, serviceEnvShape } from '@ticketing/common';
import { named, ofKind, parseYamlDocuments, readRepoFile } from './manifests';
import { selects } from './service-routing';

const FILE = 'infra/k8s/nats-streaming/nats-streaming.yaml';
const docs = parseYamlDocuments(FILE).map((m) => m.doc);
const statefulSet = docs.find((d) => d.kind === 'StatefulSet') as unknown as IStatefulSet;
const service = docs.find((d) => d.kind === 'Service') as unknown as IService;
const container = statefulSet.spec!.template.spec!.containers[0];
const args = container.args ?? [];
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

/** The `kubectl set env` commands in the file's header, as variables per command. */
function switchCommands(): { deployments: string[]; env: Record<string, string> }[] {
  return [...readRepoFile(FILE).matchAll(/^#\s+kubectl set env (.+)$/gm)].map(([, rest]) => {
    const words = rest.trim().split(/\s+/);
    return {
      deployments: words.filter((w) => w.startsWith('deployment/')).map((w) => w.slice('deployment/'.length)),
      env: Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string])),
    };
  });
}

describe('the optional NATS Streaming deployment', () => {
  it('is a valid StatefulSet and Service', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Service', 'StatefulSet']);
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
    const [there, back] = switchCommands();
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
