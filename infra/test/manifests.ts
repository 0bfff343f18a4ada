/**
 * Reads the deployment configuration (infra/k8s/*.yaml, skaffold.yaml) for the infra tests.
 * Everything is checked offline: no cluster and no Docker engine, only the files.
 *
 * The typed views (`ofKind`) trust the shapes that k8s-schema.test.ts validates with
 * kubernetes-models; a malformed manifest fails there with the schema's own message.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IGateway, IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import type { IIngress, INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IConfigMap, IContainer, IPodTemplateSpec, IService } from 'kubernetes-models/v1';

export const ROOT = resolve(__dirname, '..', '..');
export const K8S_DIR = join(ROOT, 'infra', 'k8s');

/** Each service is built from the one `Dockerfile` (SERVICE=<name>): image `ticketing/<name>`, a Deployment and a Service named `<name>`. */
export const SERVICES = ['tickets', 'orders'] as const;
export type ServiceName = (typeof SERVICES)[number];
export const imageOf = (service: ServiceName): string => `ticketing/${service}`;
/** The web app's image (`web/Dockerfile`; Deployment and Service `web`, the Ingress's `/`). */
export const WEB_IMAGE = 'ticketing/web';
/** Every image skaffold builds. */
export const BUILT_IMAGES: string[] = [...SERVICES.map(imageOf), WEB_IMAGE];

export interface Manifest {
  /** `infra/k8s/<file>#<document index>`, for test names and messages. */
  source: string;
  doc: Record<string, unknown>;
}

export function readRepoFile(path: string): string {
  const absolute = join(ROOT, path);
  if (!existsSync(absolute)) throw new Error(`${path} does not exist (looked in ${ROOT})`);
  return readFileSync(absolute, 'utf8');
}

/** Repository-relative paths of every YAML file in infra/k8s. */
export function manifestFiles(): string[] {
  return readdirSync(K8S_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => relative(ROOT, join(K8S_DIR, name)));
}

/**
 * Repository-relative paths of the YAML files in infra/k8s's folders: manifests an operator applies
 * by hand (e.g. infra/k8s/nats-streaming/), which skaffold does not deploy but which are held to
 * the same rules as the rest.
 */
export function optionalManifestFiles(): string[] {
  return readdirSync(K8S_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) =>
      readdirSync(join(K8S_DIR, dir.name))
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => relative(ROOT, join(K8S_DIR, dir.name, name))),
    )
    .sort();
}

/**
 * The `kubectl set env deployment/<name>… KEY=value…` commands an optional manifest's comments
 * give to switch the services onto it (or back), as the deployments and the values they set.
 */
export function switchCommands(path: string): { deployments: string[]; env: Record<string, string> }[] {
  return [...readRepoFile(path).matchAll(/^#\s+kubectl set env (.+)$/gm)].map(([, rest]) => {
    const words = rest.trim().split(/\s+/);
    return {
      deployments: words.filter((w) => w.startsWith('deployment/')).map((w) => w.slice('deployment/'.length)),
      env: Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string])),
    };
  });
}

/** Parses every YAML document (as the YAML is written: no defaults filled in). */
export function parseYamlDocuments(path: string): Manifest[] {
  return parseAllDocuments(readRepoFile(path)).flatMap((document, index) => {
    const source = `${path}#${index}`;
    if (document.errors.length > 0) {
      throw new Error(`${source}: ${document.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return [];
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source} is not a YAML mapping`);
    return [{ source, doc: value as Record<string, unknown> }];
  });
}

/** skaffold's manifests and the optional ones: every rule applies to both. */
export function loadManifests(): Manifest[] {
  return [...manifestFiles(), ...optionalManifestFiles()].flatMap(parseYamlDocuments);
}

interface KindMap {
  ConfigMap: IConfigMap;
  Deployment: IDeployment;
  Gateway: IGateway;
  HTTPRoute: IHTTPRoute;
  Ingress: IIngress;
  NetworkPolicy: INetworkPolicy;
  PodDisruptionBudget: IPodDisruptionBudget;
  Service: IService;
  StatefulSet: IStatefulSet;
}

export function ofKind<K extends keyof KindMap>(kind: K): KindMap[K][] {
  return loadManifests()
    .filter((m) => m.doc.kind === kind)
    .map((m) => m.doc as unknown as KindMap[K]);
}

export function named<T extends { metadata?: { name?: string } }>(objects: T[], name: string, what: string): T {
  const found = objects.find((o) => o.metadata?.name === name);
  if (!found) throw new Error(`infra/k8s has no ${what} named "${name}"`);
  return found;
}

export interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  template: IPodTemplateSpec;
  /** As written; Kubernetes' default when unset is 1. */
  replicas: number;
}

export function workloads(): Workload[] {
  const deployments = ofKind('Deployment').map((d) => ({
    kind: 'Deployment' as const,
    name: d.metadata?.name ?? '',
    template: d.spec?.template ?? {},
    replicas: d.spec?.replicas ?? 1,
  }));
  const statefulSets = ofKind('StatefulSet').map((s) => ({
    kind: 'StatefulSet' as const,
    name: s.metadata?.name ?? '',
    template: s.spec?.template ?? {},
    replicas: s.spec?.replicas ?? 1,
  }));
  return [...deployments, ...statefulSets];
}

/** Regular and init containers: every one of them needs resources, a pinned image, and so on. */
export function allContainers(template: IPodTemplateSpec): IContainer[] {
  return [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
}
