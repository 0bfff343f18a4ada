/**
 * Each service's Deployment gives the service what its config requires and is reachable where the
 * rest of the cluster expects it: env vars, the JWT secret, ports, probes, its Service, and the
 * MongoDB and NATS addresses it is given lead to running MongoDB and NATS pods.
 */
import type { IContainer } from 'kubernetes-models/v1';
import { loadConfig as loadOrdersConfig } from '../../orders/src/config';
import { loadConfig as loadTicketsConfig } from '../../tickets/src/config';
import { imageOf, named, ofKind, SERVICES, type ServiceName } from './manifests';
import { parseRequiredEnv, requiredEnvOf } from './service-config';
import { appContainer, containerPortNumber, envVar, resolveServicePort, workloadsBehind } from './service-routing';

const DEFAULT_PORT = 3000; // the services' default when PORT is unset
const JWT_SECRET = { name: 'jwt-secret', key: 'JWT_KEY' };
const LOAD_CONFIG: Record<ServiceName, (env: NodeJS.ProcessEnv) => unknown> = { tickets: loadTicketsConfig, orders: loadOrdersConfig };

/**
 * The environment a pod would get: literal values as written, and stand-ins for values the
 * cluster fills in (pod fields, secrets), which the manifests cannot show.
 */
function podEnvironment(container: IContainer): NodeJS.ProcessEnv {
  return Object.fromEntries(
    (container.env ?? []).map((variable) => {
      if (variable.value !== undefined) return [variable.name, variable.value];
      if (variable.valueFrom?.fieldRef) return [variable.name, 'pod-name-0'];
      if (variable.valueFrom?.secretKeyRef) return [variable.name, 'a-secret-value-from-the-cluster'];
      return [variable.name, undefined];
    }),
  );
}

/** The port the process listens on, as the container's env tells it. */
function appPort(container: IContainer): number {
  const port = envVar(container, 'PORT')?.value;
  return port === undefined ? DEFAULT_PORT : Number(port);
}

/** A URL's host as a Service name: `svc`, `svc.namespace` or `svc.namespace.svc.cluster.local`. */
function serviceNameOf(url: URL): string {
  return url.hostname.split('.')[0];
}

function urlFromEnv(container: IContainer, name: string): URL {
  const value = envVar(container, name)?.value;
  if (value === undefined) throw new Error(`${name} is not set to a literal URL`);
  return new URL(value);
}

describe('REQUIRED_ENV in a service config', () => {
  it('is read from the `export const REQUIRED_ENV = [...] as const` declaration', () => {
    const source =
      "import x from 'y';\nexport const REQUIRED_ENV = [\n  'MONGO_URL',\n  \"NATS_URL\",\n  'JWT_KEY',\n] as const;\nconst other = ['PORT'];";
    expect(parseRequiredEnv(source)).toEqual(['MONGO_URL', 'NATS_URL', 'JWT_KEY']);
    expect(parseRequiredEnv('export const OPTIONAL = []')).toBeUndefined();
  });
});

describe.each(SERVICES)('the %s Deployment', (service: ServiceName) => {
  const container = (): IContainer => appContainer(service, imageOf(service));

  it(`sets every variable that ${service}/src/config.ts requires`, () => {
    const required = requiredEnvOf(service);
    const missing = required.filter((name) => {
      const variable = envVar(container(), name);
      return variable === undefined || (variable.valueFrom === undefined && !variable.value);
    });
    expect(missing).toEqual([]);
  });

  it(`passes the config validation of ${service} (loadConfig) with the values it sets`, () => {
    expect(() => LOAD_CONFIG[service](podEnvironment(container()))).not.toThrow();
  });

  it('takes JWT_KEY from the jwt-secret Secret, never from a literal', () => {
    const variable = envVar(container(), 'JWT_KEY');
    expect(variable?.value).toBeUndefined();
    expect(variable?.valueFrom?.secretKeyRef).toMatchObject(JWT_SECRET);
  });

  it('names its NATS connection after the pod', () => {
    expect(envVar(container(), 'NATS_CLIENT_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('declares the port the process listens on, and probes /readyz and /healthz there', () => {
    const port = appPort(container());
    expect(Number.isInteger(port)).toBe(true);
    expect(containerPortNumber(container(), port)).toBe(port);
    const { readinessProbe, livenessProbe } = container();
    expect(readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [readinessProbe, livenessProbe]) {
      expect(containerPortNumber(container(), probe?.httpGet?.port ?? -1)).toBe(port);
    }
  });

  it('has a selector that matches its own pods', () => {
    const deployment = named(ofKind('Deployment'), service, 'Deployment');
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    expect(Object.keys(deployment.spec?.selector.matchLabels ?? {}).length).toBeGreaterThan(0);
    expect(labels).toMatchObject(deployment.spec?.selector.matchLabels ?? {});
  });

  it(`is behind the ${service} Service, which sends traffic to the port the process listens on`, () => {
    const k8sService = named(ofKind('Service'), service, 'Service');
    expect(workloadsBehind(k8sService).map((w) => `${w.kind}/${w.name}`)).toEqual([`Deployment/${service}`]);
    const ports = (k8sService.spec?.ports ?? []).flatMap((p) => resolveServicePort(service, p.port).map((b) => b.containerPort));
    expect(ports).toContain(appPort(container()));
  });

  it('points MONGO_URL at its own MongoDB StatefulSet through a Service', () => {
    const url = urlFromEnv(container(), 'MONGO_URL');
    expect(url.protocol).toBe('mongodb:');
    expect(url.pathname.replace(/^\//, '')).not.toBe('');
    const backends = resolveServicePort(serviceNameOf(url), Number(url.port || 27017));
    expect(backends.map((b) => [b.workload.kind, b.container.image?.split(':')[0]])).toEqual([['StatefulSet', 'mongo']]);
    // One database server per service: no other service's Deployment uses this MongoDB.
    const others = SERVICES.filter((s) => s !== service).map((s) => serviceNameOf(urlFromEnv(appContainer(s, imageOf(s)), 'MONGO_URL')));
    expect(others).not.toContain(serviceNameOf(url));
  });

  it('points NATS_URL at the NATS StatefulSet through a Service', () => {
    const url = urlFromEnv(container(), 'NATS_URL');
    expect(url.protocol).toBe('nats:');
    const backends = resolveServicePort(serviceNameOf(url), Number(url.port || 4222));
    expect(backends.map((b) => [b.workload.kind, b.container.image?.split(':')[0]])).toEqual([['StatefulSet', 'nats']]);
  });
});

describe('Services', () => {
  it.each(ofKind('Service').map((s) => [s.metadata?.name ?? '', s] as const))(
    '%s selects pods and targets ports they declare',
    (name, service) => {
      expect(workloadsBehind(service).length).toBeGreaterThan(0);
      for (const port of service.spec?.ports ?? []) {
        expect(resolveServicePort(name, port.port).length).toBeGreaterThan(0);
      }
    },
  );
});
