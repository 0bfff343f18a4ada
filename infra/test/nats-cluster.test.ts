/**
 * NATS runs as a 3-node JetStream cluster: the config in the ConfigMap names every node through the
 * headless Service, each node has a stable unique name and its own file store on a volume, and
 * the services ask for as many stream replicas as there are nodes.
 */
import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IContainer } from 'kubernetes-models/v1';
import { imageOf, named, ofKind, SERVICES } from './manifests';
import { natsUsers, STREAM_LIMITS } from '@ticketing/common/testing';
import { parseNatsConf, type NatsConf } from './nats-conf';
import { appContainer, containerPortNumber, envVar, workloadsBehind } from './service-routing';

const CLUSTER_SIZE = 3;

// Looked up inside each test, so that a broken manifest fails tests rather than the whole file.
const statefulSet = (): IStatefulSet => named(ofKind('StatefulSet'), 'nats', 'StatefulSet');
const nats = (): IContainer => {
  const container = statefulSet().spec?.template.spec?.containers.find((c) => /^nats:/.test(c.image ?? ''));
  if (!container) throw new Error('the nats StatefulSet has no container running a nats image');
  return container;
};
const replicas = (): number => statefulSet().spec?.replicas ?? 1;

/** The config file the server is started with, found through its command line and volumes. */
function loadConfig(): NatsConf {
  return parseNatsConf(loadConfigText());
}

function loadConfigText(): string {
  const args = [...(nats().command ?? []), ...(nats().args ?? [])];
  const flag = args.findIndex((a) => a === '--config' || a === '-c');
  const path = flag >= 0 ? args[flag + 1] : undefined;
  if (!path) throw new Error('nats-server is not started with --config <file>');
  const mount = (nats().volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = statefulSet().spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
  const configMapName = volume?.configMap?.name;
  if (!mount || !configMapName) throw new Error(`${path} is not on a mounted ConfigMap volume`);
  const key = path.slice(mount.mountPath.length + 1);
  const text = named(ofKind('ConfigMap'), configMapName, 'ConfigMap').data?.[key];
  if (text === undefined) throw new Error(`ConfigMap ${configMapName} has no key ${key}`);
  return text;
}

describe('the NATS cluster', () => {
  it('is started with a config file from its ConfigMap', () => {
    expect(() => loadConfig()).not.toThrow();
  });

  it(`has ${CLUSTER_SIZE} nodes, started together (a JetStream node is not ready until it finds its peers)`, () => {
    expect(statefulSet().spec?.replicas).toBe(CLUSTER_SIZE);
    expect(statefulSet().spec?.podManagementPolicy).toBe('Parallel');
  });

  it('names each server after its pod ($POD_NAME from metadata.name)', () => {
    const variable = /^\$(\w+)$/.exec(loadConfig().settings.server_name ?? '')?.[1];
    expect(variable).toBeDefined();
    expect(envVar(nats(), variable ?? '')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('routes to every node by its stable name under the headless Service', () => {
    const cluster = loadConfig().blocks.cluster;
    expect(cluster).toBeDefined();
    expect(cluster?.settings.name).toBeTruthy();
    const clusterPort = Number(cluster?.settings.port ?? cluster?.settings.listen?.split(':').pop());
    expect(containerPortNumber(nats(), clusterPort)).toBe(clusterPort);
    const headless = named(ofKind('Service'), statefulSet().spec?.serviceName ?? '', 'Service');
    expect(headless.spec?.clusterIP).toBe('None');
    // Peers must resolve before they are ready, or the cluster can never form.
    expect(headless.spec?.publishNotReadyAddresses).toBe(true);
    expect((headless.spec?.ports ?? []).map((p) => p.port)).toContain(clusterPort);
    const nodes = Array.from({ length: replicas() }, (_, i) => `${statefulSet().metadata?.name}-${i}`);
    const expected = nodes.map((node) => `nats://${node}.${headless.metadata?.name}:${clusterPort}`);
    expect([...(cluster?.lists.routes ?? [])].sort()).toEqual(expected.sort());
  });

  it('keeps the JetStream file store on a persistent volume', () => {
    const storeDir = loadConfig().blocks.jetstream?.settings.store_dir;
    expect(storeDir).toBeDefined();
    const claims = (statefulSet().spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
    const mount = (nats().volumeMounts ?? []).find((m) => storeDir === m.mountPath || storeDir?.startsWith(`${m.mountPath}/`));
    expect(mount).toBeDefined();
    expect(claims).toContain(mount?.name);
  });

  it('serves clients and monitoring (8222) on declared ports that Services expose', () => {
    const conf = loadConfig();
    const clientPort = Number(conf.settings.port ?? 4222);
    const monitorPort = Number(conf.settings.http_port);
    expect(monitorPort).toBe(8222);
    const exposed = ofKind('Service')
      .filter((s) => workloadsBehind(s).some((w) => w.kind === 'StatefulSet' && w.name === statefulSet().metadata?.name))
      .flatMap((s) => (s.spec?.ports ?? []).map((p) => p.targetPort ?? p.port))
      .map((target) => containerPortNumber(nats(), target));
    for (const port of [clientPort, monitorPort]) {
      expect(containerPortNumber(nats(), port)).toBe(port);
      expect(exposed).toContain(port);
    }
  });

  it('probes the server on its monitoring port', () => {
    const monitorPort = Number(loadConfig().settings.http_port);
    for (const probe of [nats().readinessProbe, nats().livenessProbe]) {
      expect(probe?.httpGet?.path).toMatch(/^\/healthz/);
      expect(containerPortNumber(nats(), probe?.httpGet?.port ?? -1)).toBe(monitorPort);
    }
  });

  it.each(SERVICES)('is asked by %s for as many stream replicas as it has nodes', (service) => {
    expect(envVar(appContainer(service, imageOf(service)), 'JETSTREAM_REPLICAS')?.value).toBe(String(replicas()));
  });

  it.each(SERVICES)('lets %s in as its own user, with the password both sides read from one Secret key', (service) => {
    const container = appContainer(service, imageOf(service));
    const user = envVar(container, 'NATS_USER')?.value;
    expect(user).toBe(service);
    const users = natsUsers(loadConfigText());
    const configured = users.find((u) => u.user === user);
    expect(configured).toBeDefined();
    const servicePassword = envVar(container, 'NATS_PASSWORD');
    expect(servicePassword?.value).toBeUndefined();
    expect(servicePassword?.valueFrom?.secretKeyRef?.name).toBeTruthy();
    const serverPassword = envVar(nats(), configured?.passwordVariable ?? '');
    expect(serverPassword?.valueFrom?.secretKeyRef).toEqual(servicePassword?.valueFrom?.secretKeyRef);
  });

  it("reads every user's password from a Secret, never from a literal", () => {
    for (const { passwordVariable } of natsUsers(loadConfigText())) {
      const variable = envVar(nats(), passwordVariable);
      expect({ passwordVariable, fromSecret: variable?.value === undefined && variable?.valueFrom?.secretKeyRef !== undefined }).toEqual({
        passwordVariable,
        fromSecret: true,
      });
    }
  });

  it('has room on every node for a full replica of each stream at its limits', () => {
    const size = /^(\d+)\s*([KMGT]?)B?$/i.exec(loadConfig().blocks.jetstream?.settings.max_file_store ?? '');
    expect(size).not.toBeNull();
    const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
    const fileStore = Number(size?.[1]) * units[(size?.[2] ?? '').toUpperCase()];
    // With as many replicas as nodes, every node holds a copy of every stream.
    expect(STREAM_LIMITS.events.maxBytes + STREAM_LIMITS.deadLetters.maxBytes).toBeLessThanOrEqual(fileStore);
  });
});
