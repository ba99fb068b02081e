import { apiSchemaErrors, kubernetesErrors, unknownFields } from './kubernetes-schema';

// A deliberately broken manifest must fail each pass, or the chart's manifest checks prove nothing.

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'demo', labels: { app: 'demo' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'demo' } },
    template: {
      metadata: { labels: { app: 'demo' }, annotations: { 'checksum/config': 'abc' } },
      spec: {
        containers: [
          {
            name: 'demo',
            image: 'registry.example.com/demo:1',
            ports: [{ name: 'http', containerPort: 3000 }],
            env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'A' } } }],
            resources: { requests: { cpu: '50m', memory: '128Mi' } },
            securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
      },
    },
  },
});

describe('kubernetesErrors', () => {
  it('passes a valid Deployment', () => {
    expect(kubernetesErrors(deployment())).toEqual([]);
  });

  it('names a misspelt field at any depth, which the API schema validators let through', () => {
    const broken = deployment() as unknown as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    const [container] = broken.spec.template.spec.containers;
    (container.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true;
    container.imagePullPolicyy = 'Always';
    expect(apiSchemaErrors(broken as never)).toEqual([]);
    expect(unknownFields(broken as never)).toEqual([
      '/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem',
      '/spec/template/spec/containers/0/imagePullPolicyy',
    ]);
  });

  it('names a wrong type and a missing required field', () => {
    const broken = deployment() as unknown as { spec: Record<string, unknown> };
    broken.spec.replicas = 'three';
    delete broken.spec.selector;
    expect(kubernetesErrors(broken as never).join('\n')).toMatch(/replicas must be integer/);
    expect(kubernetesErrors(broken as never).join('\n')).toMatch(/must have required property selector/);
  });

  it('refuses a kind the API does not have', () => {
    expect(kubernetesErrors({ apiVersion: 'apps/v1', kind: 'Deploymnet' })).toEqual([
      'apps/v1 Deploymnet is not a Kubernetes API kind',
    ]);
  });

  it('accepts any key in a map (labels, annotations, ConfigMap data)', () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x' },
      data: { ANY_KEY: 'v' },
    };
    expect(kubernetesErrors(configMap)).toEqual([]);
  });
});
