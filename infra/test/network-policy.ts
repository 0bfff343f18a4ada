/**
 * Decides, from the NetworkPolicies in infra/k8s, whether one pod may open a connection to another
 * pod's port, with the semantics of the NetworkPolicy API: a connection needs the sender's egress
 * and the receiver's ingress; a side no policy selects (for that direction) is unrestricted; peers
 * are a podSelector in the policy's namespace, a namespaceSelector (optionally with a podSelector),
 * or an ipBlock; ports match by protocol (TCP when unset), number, range or the receiver's port name.
 * An ipBlock is taken to match every address, pods included, so a wide block cannot go unnoticed.
 */
import type { INetworkPolicy, INetworkPolicyPeer, INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1';
import type { IContainerPort } from 'kubernetes-models/v1';

type LabelSelector = INetworkPolicyPeer['podSelector'];

/** Where the manifests are applied (they name no namespace). */
export const APP_NAMESPACE = 'ticketing';

export interface Endpoint {
  /** For messages. */
  name: string;
  /** Undefined for an address outside the cluster. */
  namespace?: string;
  labels: Record<string, string>;
  /** The receiver's declared ports, for named ports in policies. */
  ports?: IContainerPort[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabel && byExpression;
}

const namespaceLabels = (namespace: string): Record<string, string> => ({ 'kubernetes.io/metadata.name': namespace });

function peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, endpoint: Endpoint): boolean {
  if (peer.ipBlock) return true;
  if (endpoint.namespace === undefined) return false;
  if (peer.namespaceSelector) {
    return (
      selectorMatches(peer.namespaceSelector, namespaceLabels(endpoint.namespace)) && selectorMatches(peer.podSelector, endpoint.labels)
    );
  }
  return endpoint.namespace === policyNamespace && selectorMatches(peer.podSelector, endpoint.labels);
}

function portMatches(rules: INetworkPolicyPort[] | undefined, port: number, protocol: Protocol, receiver: Endpoint): boolean {
  if (!rules || rules.length === 0) return true;
  return rules.some((rule) => {
    if ((rule.protocol ?? 'TCP') !== protocol) return false;
    if (rule.port === undefined) return true;
    if (typeof rule.port === 'string') {
      return (receiver.ports ?? []).some((p) => p.name === rule.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol);
    }
    return port >= rule.port && port <= (rule.endPort ?? rule.port);
  });
}

function policyTypes(policy: INetworkPolicy): string[] {
  if (policy.spec?.policyTypes) return policy.spec.policyTypes;
  return policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

function selecting(policies: INetworkPolicy[], endpoint: Endpoint, type: 'Ingress' | 'Egress'): INetworkPolicy[] {
  return policies.filter(
    (p) =>
      endpoint.namespace === (p.metadata?.namespace ?? APP_NAMESPACE) &&
      policyTypes(p).includes(type) &&
      selectorMatches(p.spec?.podSelector, endpoint.labels),
  );
}

export function connectionAllowed(
  policies: INetworkPolicy[],
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: Protocol = 'TCP',
): boolean {
  const egress = selecting(policies, from, 'Egress');
  const egressOk =
    egress.length === 0 ||
    egress.some((p) =>
      (p.spec?.egress ?? []).some(
        (rule) =>
          (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, p.metadata?.namespace ?? APP_NAMESPACE, to))) &&
          portMatches(rule.ports, port, protocol, to),
      ),
    );
  const ingress = selecting(policies, to, 'Ingress');
  const ingressOk =
    ingress.length === 0 ||
    ingress.some((p) =>
      (p.spec?.ingress ?? []).some(
        (rule) =>
          (!rule.from ||
            rule.from.length === 0 ||
            rule.from.some((peer) => peerMatches(peer, p.metadata?.namespace ?? APP_NAMESPACE, from))) &&
          portMatches(rule.ports, port, protocol, to),
      ),
    );
  return egressOk && ingressOk;
}
