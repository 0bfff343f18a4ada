/**
 * Follows a Service to the pods behind it the way the cluster does: the Service's selector must
 * match the pod template's labels, and a Service port's targetPort (a number, or a container
 * port's name) must be a port that the selected containers declare.
 */
import type { IContainer, IEnvVar, IPodTemplateSpec, IService, IServicePort } from 'kubernetes-models/v1';
import { named, ofKind, workloads, type Workload } from './manifests';

export interface Backend {
  service: IService;
  servicePort: IServicePort;
  workload: Workload;
  container: IContainer;
  containerPort: number;
}

export function selects(service: IService, template: IPodTemplateSpec): boolean {
  const selector = service.spec?.selector ?? {};
  const labels = template.metadata?.labels ?? {};
  const pairs = Object.entries(selector);
  return pairs.length > 0 && pairs.every(([key, value]) => labels[key] === value);
}

export function workloadsBehind(service: IService): Workload[] {
  return workloads().filter((w) => selects(service, w.template));
}

/** The number a container listens on for `port` (a number or a port name), if it declares it. */
export function containerPortNumber(container: IContainer, port: number | string): number | undefined {
  const declared = container.ports ?? [];
  const match = typeof port === 'number' ? declared.find((p) => p.containerPort === port) : declared.find((p) => p.name === port);
  return match?.containerPort;
}

/**
 * Every (workload, container) that receives traffic sent to `serviceName:port`, where `port` is
 * the Service's port number or name. Throws with the reason when the chain is broken anywhere.
 */
export function resolveServicePort(serviceName: string, port: number | string): Backend[] {
  const service = named(ofKind('Service'), serviceName, 'Service');
  const servicePort = (service.spec?.ports ?? []).find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
  if (!servicePort) throw new Error(`Service "${serviceName}" has no port ${JSON.stringify(port)}`);
  const target = servicePort.targetPort ?? servicePort.port;

  const selected = workloadsBehind(service);
  if (selected.length === 0) throw new Error(`Service "${serviceName}" selects no Deployment or StatefulSet`);

  return selected.map((workload) => {
    const containers = workload.template.spec?.containers ?? [];
    const container = containers.find((c) => containerPortNumber(c, target) !== undefined);
    if (!container) {
      throw new Error(
        `Service "${serviceName}" port ${servicePort.port} targets ${JSON.stringify(target)}, which no container of ${workload.kind} "${workload.name}" declares`,
      );
    }
    return { service, servicePort, workload, container, containerPort: containerPortNumber(container, target) as number };
  });
}

export function envVar(container: IContainer, name: string): IEnvVar | undefined {
  return (container.env ?? []).find((e) => e.name === name);
}

/** The container of a service's Deployment that runs the service's own image. */
export function appContainer(deploymentName: string, image: string): IContainer {
  const deployment = named(ofKind('Deployment'), deploymentName, 'Deployment');
  const container = (deployment.spec?.template.spec?.containers ?? []).find((c) => c.image === image);
  if (!container) throw new Error(`Deployment "${deploymentName}" has no container running image ${image}`);
  return container;
}
