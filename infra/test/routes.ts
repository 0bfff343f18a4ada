/**
 * What the edge (the Ingress and the Gateway API HTTPRoutes) sends where: host, path prefix and
 * backend Service, so that the two can be compared and the routed pods found.
 */
import { ofKind } from './manifests';

export interface Route {
  host: string;
  pathPrefix: string;
  service: string;
  port: number | string;
}

export function ingressRoutes(): Route[] {
  return ofKind('Ingress').flatMap((ingress) =>
    (ingress.spec?.rules ?? []).flatMap((rule) =>
      (rule.http?.paths ?? []).flatMap((path) => {
        const backend = path.backend.service;
        if (!backend || path.pathType !== 'Prefix') return [];
        return [
          {
            host: rule.host ?? '*',
            pathPrefix: path.path ?? '/',
            service: backend.name,
            port: backend.port?.number ?? backend.port?.name ?? '',
          },
        ];
      }),
    ),
  );
}

export function httpRouteRoutes(): Route[] {
  return ofKind('HTTPRoute').flatMap((route) =>
    (route.spec.hostnames ?? ['*']).flatMap((host) =>
      (route.spec.rules ?? []).flatMap((rule) =>
        (rule.matches ?? []).flatMap((match) =>
          match.path?.type === 'PathPrefix'
            ? (rule.backendRefs ?? [])
                .filter((ref) => (ref.kind ?? 'Service') === 'Service')
                .map((ref) => ({ host, pathPrefix: match.path?.value ?? '/', service: ref.name, port: ref.port ?? '' }))
            : [],
        ),
      ),
    ),
  );
}

/** Names of the Services that outside traffic reaches through either edge. */
export function routedServiceNames(): string[] {
  return [...new Set([...ingressRoutes(), ...httpRouteRoutes()].map((r) => r.service))];
}
