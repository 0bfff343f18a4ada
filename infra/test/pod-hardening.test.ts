/**
 * Rules every Deployment and StatefulSet in infra/k8s follows, whoever adds it: restricted
 * security settings, a startup probe in front of every liveness probe, a drain pause on pods that
 * an ingress or gateway routes to, and, for workloads with several copies, a disruption budget and
 * spreading over nodes. The rules are applied to every workload found, not to a list of names.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IContainer, IPodTemplateSpec } from 'kubernetes-models/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { allContainers, ofKind, parseYamlDocuments, readRepoFile, ROOT, workloads, type Workload } from './manifests';
import { selects } from './service-routing';
import { routedServiceNames } from './routes';

/** Kubernetes' default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_SECONDS = 30;
/** Long enough for the ingress controller or gateway to learn that the endpoint is gone. */
const MIN_DRAIN_PAUSE_SECONDS = 5;
/** A pod's liveness probe must not count before this much start-up time has had its chance. */
const MIN_STARTUP_BUDGET_SECONDS = 120;

/** Images skaffold builds with file sync: its dev loop writes synced sources into the container. */
function syncedImages(): string[] {
  const config = parseYamlDocuments('skaffold.yaml')[0]?.doc as { build?: { artifacts?: { image?: string; sync?: unknown }[] } };
  return (config.build?.artifacts ?? []).filter((a) => a.sync !== undefined).map((a) => a.image ?? '');
}

/** `const SHUTDOWN_TIMEOUT_MS = 10_000;` in `<name>/src/main.ts` or the runService it calls, when the workload is one of ours. */
export function shutdownTimeoutMs(source: string): number | undefined {
  const value = /const\s+SHUTDOWN_TIMEOUT_MS\s*=\s*([\d_]+)\s*;/.exec(source)?.[1];
  return value === undefined ? undefined : Number(value.replace(/_/g, ''));
}

function ownShutdownTimeoutMs(workload: Workload): number | undefined {
  const main = `${workload.name}/src/main.ts`;
  if (!existsSync(join(ROOT, main))) return undefined;
  // A service's main.ts only calls common's runService, which holds the timeout for every service.
  const path = /\brunService\(/.test(readRepoFile(main)) ? 'common/src/service/run-service.ts' : main;
  const timeout = shutdownTimeoutMs(readRepoFile(path));
  if (timeout === undefined) throw new Error(`${path} declares no SHUTDOWN_TIMEOUT_MS`);
  return timeout;
}

function budgetsFor(template: IPodTemplateSpec): IPodDisruptionBudget[] {
  const labels = template.metadata?.labels ?? {};
  return ofKind('PodDisruptionBudget').filter((pdb) => {
    const match = pdb.spec?.selector?.matchLabels ?? {};
    return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
  });
}

/** An absolute count or a percentage of `total` (rounded up, as the disruption controller does). */
function countOf(value: number | string | undefined, total: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value)?.[1];
  if (percent === undefined) throw new Error(`"${value}" is neither a number nor a percentage`);
  return Math.ceil((Number(percent) * total) / 100);
}

/** How many of `replicas` pods a budget lets a drain take at once, and how many it keeps. */
export function budgetBounds(pdb: IPodDisruptionBudget, replicas: number): { evictable: number; kept: number } {
  const minAvailable = countOf(pdb.spec?.minAvailable, replicas);
  const maxUnavailable = countOf(pdb.spec?.maxUnavailable, replicas);
  if (minAvailable !== undefined) return { evictable: Math.max(0, replicas - minAvailable), kept: minAvailable };
  if (maxUnavailable !== undefined) return { evictable: maxUnavailable, kept: replicas - maxUnavailable };
  return { evictable: replicas, kept: 0 };
}

function isNatsCluster(workload: Workload): boolean {
  return workload.kind === 'StatefulSet' && allContainers(workload.template).some((c) => /^nats:/.test(c.image ?? ''));
}

const cases = workloads().map((w) => [`${w.kind} ${w.name}`, w] as const);

describe.each(cases)('%s', (_label, workload) => {
  const pod = workload.template.spec;
  const containers = allContainers(workload.template);
  const byName = containers.map((c) => [c.name, c] as const);

  it('runs with the RuntimeDefault seccomp profile, as a non-root user', () => {
    expect(pod?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    // A numeric user: the kubelet can only verify runAsNonRoot for an image's named user at run time.
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
  });

  it.each(byName)('container %s gains no privilege and drops every capability', (_name, container: IContainer) => {
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect(container.securityContext?.privileged ?? false).toBe(false);
  });

  it.each(byName)('container %s has a read-only root filesystem unless skaffold syncs sources into it', (_name, container) => {
    const readOnly = container.securityContext?.readOnlyRootFilesystem === true;
    const synced = syncedImages().includes(container.image ?? '');
    expect({ image: container.image, readOnly: readOnly || synced }).toEqual({ image: container.image, readOnly: true });
  });

  it.each(byName)('container %s is given time to start before its liveness probe counts', (_name, container) => {
    if (!container.livenessProbe) return;
    const startup = container.startupProbe;
    expect(startup).toBeDefined();
    const budget = (startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3) + (startup?.initialDelaySeconds ?? 0);
    expect(budget).toBeGreaterThanOrEqual(MIN_STARTUP_BUDGET_SECONDS);
    // With a startup probe, a delay on the liveness probe only postpones detecting a hang.
    expect(container.livenessProbe.initialDelaySeconds ?? 0).toBe(0);
  });
});

function isRouted(workload: Workload): boolean {
  return ofKind('Service').some(
    (service) => routedServiceNames().includes(service.metadata?.name ?? '') && selects(service, workload.template),
  );
}

describe.each(cases.filter(([, w]) => isRouted(w)))('%s, which the ingress and gateway route to,', (_label, workload) => {
  it('pauses before SIGTERM so that the ingress stops routing first, within the grace period', () => {
    const pod = workload.template.spec;
    const grace = pod?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    const shutdownSeconds = (ownShutdownTimeoutMs(workload) ?? 0) / 1000;
    for (const container of pod?.containers ?? []) {
      const pause = container.lifecycle?.preStop?.sleep?.seconds;
      expect({ container: container.name, pause }).toEqual({ container: container.name, pause: expect.any(Number) });
      expect(pause).toBeGreaterThanOrEqual(MIN_DRAIN_PAUSE_SECONDS);
      // The pause counts against the grace period; the process then needs its own shutdown time.
      expect((pause ?? 0) + shutdownSeconds).toBeLessThan(grace);
    }
  });
});

describe.each(cases.filter(([, w]) => w.replicas > 1))('%s, which runs several copies,', (_label, workload) => {
  it('has a disruption budget that lets a drain proceed one pod at a time', () => {
    const budgets = budgetsFor(workload.template);
    expect(budgets).toHaveLength(1);
    const { evictable, kept } = budgetBounds(budgets[0], workload.replicas);
    expect(evictable).toBeGreaterThanOrEqual(1);
    expect(kept).toBeGreaterThanOrEqual(isNatsCluster(workload) ? Math.floor(workload.replicas / 2) + 1 : 1);
  });

  it('spreads its pods over nodes', () => {
    const byHost = (workload.template.spec?.topologySpreadConstraints ?? []).find((c) => c.topologyKey === 'kubernetes.io/hostname');
    expect(byHost?.maxSkew).toBe(1);
    const selector = byHost?.labelSelector?.matchLabels ?? {};
    const labels = workload.template.metadata?.labels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(true);
  });
});

describe('the workloads that must follow the per-kind rules above', () => {
  it('include the routed services and the replicated ones', () => {
    expect(cases.filter(([, w]) => isRouted(w)).map(([, w]) => w.name)).toEqual(expect.arrayContaining(['tickets', 'orders']));
    expect(cases.filter(([, w]) => w.replicas > 1).map(([, w]) => w.name)).toEqual(expect.arrayContaining(['orders', 'nats']));
  });
});

describe('the NATS cluster', () => {
  const nats = workloads().filter(isNatsCluster);

  it('exists, and losing any one machine costs it at most one node', () => {
    expect(nats).toHaveLength(1);
    const byHost = nats[0].template.spec?.topologySpreadConstraints?.find((c) => c.topologyKey === 'kubernetes.io/hostname');
    // ScheduleAnyway would let two nodes share a machine whenever the scheduler finds it easier.
    expect(byHost?.whenUnsatisfiable).toBe('DoNotSchedule');
  });
});

describe('budgetBounds', () => {
  const pdb = (spec: IPodDisruptionBudget['spec']): IPodDisruptionBudget => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    spec,
  });
  it('reads minAvailable and maxUnavailable as counts or percentages', () => {
    expect(budgetBounds(pdb({ minAvailable: 1 }), 2)).toEqual({ evictable: 1, kept: 1 });
    expect(budgetBounds(pdb({ maxUnavailable: 1 }), 3)).toEqual({ evictable: 1, kept: 2 });
    expect(budgetBounds(pdb({ minAvailable: '50%' }), 3)).toEqual({ evictable: 1, kept: 2 });
    expect(budgetBounds(pdb({ minAvailable: 2 }), 2)).toEqual({ evictable: 0, kept: 2 });
  });
});

describe('shutdownTimeoutMs', () => {
  it('reads the constant from a main.ts', () => {
    expect(shutdownTimeoutMs('const SHUTDOWN_TIMEOUT_MS = 10_000;')).toBe(10000);
    expect(shutdownTimeoutMs('const OTHER = 5;')).toBeUndefined();
  });
});
