import { parseAllDocuments } from 'yaml';
import { runHelm } from './helm';
import { CHART_ROOT } from './values-schema';

// The rendered chart as plain objects, typed as far as the checks read them.

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}
export interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
}
export interface WorkloadSpec {
  replicas?: number;
  strategy?: { type: string };
  template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
}

/** `helm template <release> charts/choreo <args>`, parsed; throws with helm's stderr when it fails. */
export function renderChart(release: string, args: readonly string[]): Manifest[] {
  const result = runHelm(['template', release, CHART_ROOT, ...args]);
  if (result.code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => {
      if (document.errors.length)
        throw new Error(`helm rendered invalid YAML: ${document.errors[0].message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** The Deployments and StatefulSets. */
export const workloads = (manifests: Manifest[]) =>
  manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet');

export const workloadSpec = (manifest: Manifest) => manifest.spec as unknown as WorkloadSpec;

/** The one manifest of `kind` called `name`; throws listing what there is. */
export function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    throw new Error(
      `no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`,
    );
  }
  return found;
}

/** A Secret's data, decoded. */
export const secretData = (secret: Manifest): Record<string, string> =>
  Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
