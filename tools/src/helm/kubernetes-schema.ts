import path from 'node:path';
import ts from 'typescript';

/**
 * Offline validation of rendered manifests against the Kubernetes API, in two passes:
 * - kubernetes-models' own validators (the API's OpenAPI schema compiled by ajv): types, required
 *   fields, enums, formats;
 * - a strict walk over kubernetes-models' type declarations that refuses every field the API does not
 *   define (the validators above let unknown fields through, and so would a careless kubectl apply
 *   with client-side validation off: a misspelt `readOnlyRootFileSystem` is silently dropped).
 */

const root = path.resolve(__dirname, '../../..');
const modelsDir = path.dirname(require.resolve('kubernetes-models/package.json', { paths: [root] }));

export interface Kind {
  apiVersion: string;
  kind: string;
}

/** The kubernetes-models module directory of an apiVersion: `apps/v1` → `apps/v1`, `v1` → `v1`. */
const groupVersionDir = (apiVersion: string) => path.join(modelsDir, ...apiVersion.split('/'));

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** kubernetes-models' class for a kind, or undefined when the kind is not part of the core API. */
function modelClass({ apiVersion, kind }: Kind): ModelClass | undefined {
  try {
    const module = require(groupVersionDir(apiVersion)) as Record<string, ModelClass | undefined>;
    return module[kind];
  } catch {
    return undefined;
  }
}

/** Whether kubernetes-models knows the kind (core API kinds; CRDs such as ServiceMonitor are not). */
export const isCoreKind = (kind: Kind): boolean => modelClass(kind) !== undefined;

/** The API's own validation of one manifest; returns the messages (empty when valid). */
export function apiSchemaErrors(manifest: Kind): string[] {
  const Model = modelClass(manifest);
  if (!Model) return [`${manifest.apiVersion} ${manifest.kind} is not a Kubernetes API kind`];
  try {
    new Model(manifest).validate();
    return [];
  } catch (error) {
    const details = (error as { details?: { instancePath: string; message?: string }[] }).details;
    if (details?.length) return details.map((d) => `${d.instancePath || '/'}: ${d.message ?? 'invalid'}`);
    return [String(error)];
  }
}

let program: { checker: ts.TypeChecker; files: Map<string, ts.SourceFile> } | undefined;

// The kinds a chart usually renders, declared in the first program so it is built once (about 2 s).
const COMMON_KINDS: Kind[] = [
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Pod'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['batch/v1', 'Job'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
].map(([apiVersion, kind]) => ({ apiVersion, kind }));
const declarationFile = ({ apiVersion, kind }: Kind) =>
  path.join(groupVersionDir(apiVersion), `${kind}.d.ts`);

/** One TypeScript program over the declarations of `kinds` (built once, extended when a kind is new). */
function typeProgram(kinds: Kind[]): { checker: ts.TypeChecker; files: Map<string, ts.SourceFile> } {
  const wanted = kinds.map(declarationFile);
  const current = program;
  if (current && wanted.every((file) => current.files.has(file))) return current;
  const rootNames = [
    ...new Set([...(current ? current.files.keys() : COMMON_KINDS.map(declarationFile)), ...wanted]),
  ];
  const built = ts.createProgram(rootNames, {
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es5.d.ts'],
  });
  const files = new Map<string, ts.SourceFile>();
  for (const file of rootNames) {
    const source = built.getSourceFile(file);
    if (source) files.set(file, source);
  }
  program = { checker: built.getTypeChecker(), files };
  return program;
}

/** The `I<Kind>` interface a kind's declaration file exports. */
function kindType(kind: Kind): { checker: ts.TypeChecker; type: ts.Type } {
  const { checker, files } = typeProgram([kind]);
  const source = files.get(declarationFile(kind));
  const symbol = source && checker.getSymbolAtLocation(source);
  const exported = symbol && checker.getExportsOfModule(symbol).find((s) => s.name === `I${kind.kind}`);
  if (!exported) throw new Error(`kubernetes-models declares no I${kind.kind} for ${kind.apiVersion}`);
  return { checker, type: checker.getDeclaredTypeOfSymbol(exported) };
}

/** Every field of `manifest` that its kind's API type does not define, as JSON pointers. */
export function unknownFields(manifest: Kind): string[] {
  const { checker, type } = kindType(manifest);
  const found: string[] = [];
  walk(checker, manifest, type, '', found);
  return found;
}

function objectTypes(checker: ts.TypeChecker, type: ts.Type): ts.Type[] {
  const members = type.isUnion() ? type.types : [type];
  return members.filter(
    (member) => (member.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(member),
  );
}

function walk(checker: ts.TypeChecker, value: unknown, type: ts.Type, at: string, found: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const target = checker.getNonNullableType(type);
  if (Array.isArray(value)) {
    const array = (target.isUnion() ? target.types : [target]).find((t) => checker.isArrayType(t));
    if (!array) return; // a type mismatch: apiSchemaErrors reports it
    const [element] = checker.getTypeArguments(array as ts.TypeReference);
    value.forEach((item, index) => walk(checker, item, element, `${at}/${index}`, found));
    return;
  }
  const candidates = objectTypes(checker, target);
  if (candidates.length === 0) return; // e.g. an IntOrString given an object: apiSchemaErrors reports it
  const [objectType] = candidates;
  const indexType = objectType.getStringIndexType();
  for (const [key, child] of Object.entries(value)) {
    const pointer = `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (indexType) {
      walk(checker, child, indexType, pointer, found);
      continue;
    }
    const property = objectType.getProperty(key);
    if (!property) {
      found.push(pointer);
      continue;
    }
    walk(checker, child, checker.getTypeOfSymbol(property), pointer, found);
  }
}

/** Both passes over one manifest: API schema errors, then unknown fields. */
export function kubernetesErrors(manifest: Kind): string[] {
  if (!isCoreKind(manifest)) return [`${manifest.apiVersion} ${manifest.kind} is not a Kubernetes API kind`];
  return [
    ...apiSchemaErrors(manifest),
    ...unknownFields(manifest).map((pointer) => `${pointer}: unknown field`),
  ];
}
