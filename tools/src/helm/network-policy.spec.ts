import { type Endpoint, type NetworkPolicySpec, admitted } from './network-policy';

// The evaluator the chart's NetworkPolicy assertions use, checked on hand-made policies.

const pod = (labels: Record<string, string>, namespace = 'shop'): Endpoint => ({
  namespace,
  namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  labels,
});
const dbOnlyFromApi: NetworkPolicySpec = {
  podSelector: { matchLabels: { app: 'db' } },
  policyTypes: ['Ingress'],
  ingress: [
    { from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ protocol: 'TCP', port: 5432 }] },
  ],
};

describe('admitted', () => {
  it('lets anything reach a pod no policy selects', () => {
    expect(admitted([dbOnlyFromApi], 'shop', pod({ app: 'x' }), { app: 'web' }, 80)).toBe(true);
  });

  it('admits the allowed peer on the allowed port only', () => {
    expect(admitted([dbOnlyFromApi], 'shop', pod({ app: 'api' }), { app: 'db' }, 5432)).toBe(true);
    expect(admitted([dbOnlyFromApi], 'shop', pod({ app: 'api' }), { app: 'db' }, 22)).toBe(false);
    expect(admitted([dbOnlyFromApi], 'shop', pod({ app: 'web' }), { app: 'db' }, 5432)).toBe(false);
  });

  it('a podSelector alone means the policy namespace only', () => {
    expect(admitted([dbOnlyFromApi], 'shop', pod({ app: 'api' }, 'other'), { app: 'db' }, 5432)).toBe(false);
  });

  it('a namespaceSelector admits every pod of the matching namespaces', () => {
    const fromIngress: NetworkPolicySpec = {
      podSelector: {},
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }] },
      ],
    };
    expect(admitted([fromIngress], 'shop', pod({}, 'ingress'), { app: 'web' }, 80)).toBe(true);
    expect(admitted([fromIngress], 'shop', pod({}, 'shop'), { app: 'web' }, 80)).toBe(false);
  });

  it('matchExpressions In', () => {
    const policy: NetworkPolicySpec = {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
      ingress: [],
    };
    expect(admitted([policy], 'shop', pod({ app: 'api' }), { app: 'db' }, 5432)).toBe(false);
    expect(admitted([policy], 'shop', pod({ app: 'api' }), { app: 'web' }, 80)).toBe(true);
  });
});
