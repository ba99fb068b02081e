/**
 * Whether the NetworkPolicies of one namespace let a connection in, by the API's rules: a pod that no
 * Ingress policy selects takes everything; a selected pod takes what any rule of any selecting policy
 * allows (peers OR-ed, ports OR-ed, both must match). Enough of the API for the chart's policies:
 * podSelector, namespaceSelector (alone or together) and TCP ports by number.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: NetworkPolicyPeer[]; ports?: { protocol?: string; port?: number | string }[] }[];
}
export interface Endpoint {
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
}

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok =
      operator === 'In'
        ? has && values.includes(labels[key])
        : operator === 'NotIn'
          ? !has || !values.includes(labels[key])
          : operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, source: Endpoint): boolean {
  if (peer.ipBlock) return false; // pod-to-pod traffic is matched by selectors, not by ipBlock
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, source.namespaceLabels)
    : source.namespace === policyNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, source.labels) : true;
  return namespaceOk && podOk;
}

/** Whether `source` may open a TCP connection to `port` of `target` (in `namespace`). */
export function admitted(
  policies: NetworkPolicySpec[],
  namespace: string,
  source: Endpoint,
  target: Record<string, string>,
  port: number,
): boolean {
  const selecting = policies.filter(
    (policy) =>
      (policy.policyTypes ?? ['Ingress']).includes('Ingress') && selects(policy.podSelector, target),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (policy.ingress ?? []).some((rule) => {
      const fromOk = !rule.from?.length || rule.from.some((peer) => peerMatches(peer, namespace, source));
      const portOk =
        !rule.ports?.length ||
        rule.ports.some((p) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port));
      return fromOk && portOk;
    }),
  );
}
