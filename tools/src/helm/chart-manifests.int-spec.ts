import { runHelm } from './helm';
import { LONG_RELEASE, VALUES_MATRIX } from './chart-matrix';
import { isCoreKind, kubernetesErrors } from './kubernetes-schema';
import { type Manifest, renderChart } from './manifests';
import { restrictedViolations, type PodSecuritySpec } from './pod-security';
import { CHART_ROOT } from './values-schema';

// Every values file and every combination in chart-matrix.ts, rendered by a real helm and checked
// offline: helm lint --strict on all ten charts, every manifest against the Kubernetes API schema
// with unknown fields refused, every pod against the restricted Pod Security profile, and every
// name against the length Kubernetes allows. No cluster is involved.

// CRDs that kubernetes-models does not describe; chart-day2.int-spec.ts asserts their content.
const CUSTOM_KINDS = ['monitoring.coreos.com/v1 ServiceMonitor', 'gateway.networking.k8s.io/v1 HTTPRoute'];

/** The pod spec inside a workload or Pod, if any. */
function podSpecOf(manifest: Manifest): PodSecuritySpec | undefined {
  const spec = manifest.spec as
    | {
        template?: { spec?: PodSecuritySpec };
        jobTemplate?: { spec: { template: { spec: PodSecuritySpec } } };
      }
    | undefined;
  if (manifest.kind === 'Pod') return manifest.spec as PodSecuritySpec;
  return spec?.template?.spec;
}

/** Names and label values longer than Kubernetes accepts. */
function nameProblems(manifest: Manifest): string[] {
  const problems: string[] = [];
  const where = `${manifest.kind}/${manifest.metadata.name}`;
  // Services and pods' DNS labels: 63; a StatefulSet's pods carry `<name>-<10-char hash>` as a label.
  const limit = manifest.kind === 'StatefulSet' ? 52 : 63;
  if (manifest.metadata.name.length > limit) problems.push(`${where}: name longer than ${limit}`);
  const labels = {
    ...manifest.metadata.labels,
    ...((podSpecOf(manifest) &&
      (manifest.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata
        ?.labels) ??
      {}),
  };
  for (const [key, value] of Object.entries(labels))
    if (String(value).length > 63) problems.push(`${where}: label ${key} longer than 63`);
  return problems;
}

/** Every problem of one rendered release, one line each. */
export function manifestProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const manifest of manifests) {
    const where = `${manifest.kind}/${manifest.metadata?.name}`;
    if (isCoreKind(manifest)) {
      for (const error of kubernetesErrors(manifest)) problems.push(`${where}: ${error}`);
    } else if (!CUSTOM_KINDS.includes(`${manifest.apiVersion} ${manifest.kind}`)) {
      problems.push(
        `${where}: ${manifest.apiVersion} ${manifest.kind} is neither a Kubernetes kind nor a known CRD`,
      );
    }
    const pod = podSpecOf(manifest);
    if (pod)
      for (const violation of restrictedViolations(pod)) problems.push(`${where}: restricted: ${violation}`);
    problems.push(...nameProblems(manifest));
  }
  return problems;
}

const CASES = Object.entries(VALUES_MATRIX);

describe('every rendered manifest of every values combination', () => {
  it('helm lint --strict --with-subcharts passes: each of the ten charts lints on its own too', () => {
    const result = runHelm(['lint', '--strict', '--with-subcharts', CHART_ROOT]);
    expect(result.stdout).toContain('10 chart(s) linted, 0 chart(s) failed');
  });

  // With --with-subcharts, helm lint hands the umbrella's values file to each subchart as it is (not
  // the subchart's section of it), so the combinations lint the umbrella, which renders them all.
  it.each(CASES)('%s: helm lint --strict passes', (_name, args) => {
    const result = runHelm(['lint', '--strict', CHART_ROOT, ...args]);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(CASES)(
    '%s: valid against the Kubernetes API (no unknown field), restricted, names fit',
    (_name, args) => {
      for (const release of ['choreo', LONG_RELEASE]) {
        const manifests = renderChart(release, ['--namespace', 'shop', ...args]);
        expect(manifests.length).toBeGreaterThan(5);
        expect({ release, problems: manifestProblems(manifests) }).toEqual({ release, problems: [] });
      }
    },
  );

  it('a deliberately broken manifest fails these checks', () => {
    const manifests = renderChart('choreo', [
      '--namespace',
      'shop',
      ...VALUES_MATRIX['defaults (+ a registry)'],
    ]);
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    const pod = (deployment.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec;
    const container = pod.containers[0];
    (container.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true;
    (container.securityContext as Record<string, unknown>).allowPrivilegeEscalation = true;
    container.ports = [{ name: 'http', containerPort: '3001' }];
    const name = `Deployment/${deployment.metadata.name}`;
    expect(manifestProblems(manifests)).toEqual([
      `${name}: Error: data/spec/template/spec/containers/0/ports/0/containerPort must be integer`,
      `${name}: /spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem: unknown field`,
      `${name}: restricted: containers[${String(container.name)}].securityContext.allowPrivilegeEscalation: must be false`,
    ]);
  });
});
