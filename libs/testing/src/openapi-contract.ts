import { execFileSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../../..');

// @redocly/openapi-core is ESM only: it lints in its own Node process.
const LINT = `
import { createConfig, lintFromString } from '@redocly/openapi-core';
const source = await new Promise((resolve) => { let text = ''; process.stdin.on('data', (c) => (text += c)); process.stdin.on('end', () => resolve(text)); });
const config = await createConfig({ extends: ['recommended'], rules: { 'info-license': 'off' } });
const problems = await lintFromString({ source, absoluteRef: '/openapi.json', config });
process.stdout.write(JSON.stringify(problems.map((p) => ({ rule: p.ruleId, severity: p.severity, message: p.message, at: p.location?.[0]?.pointer }))));
`;

/** What Redocly's recommended rules (license aside) find in an OpenAPI document: [] when clean. */
export function lintOpenApi(
  document: unknown,
): { rule: string; severity: string; message: string; at?: string }[] {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', LINT], {
    cwd: repoRoot,
    input: JSON.stringify(document),
  }).toString();
  return JSON.parse(output) as { rule: string; severity: string; message: string; at?: string }[];
}

/** The operations of an OpenAPI document, as far as a contract test reads them. */
export interface DocumentedPaths {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

/** A request a contract test sends: the documented path (with `{id}`), its method, and the request. */
export type ContractCase = [route: string, method: string, init: RequestInit];

/** A path parameter of a documented route: `{id}`, `{rule}`. */
const PLACEHOLDER = /\{[A-Za-z_]+\}/;

/**
 * Sends each case to `base` (its path parameter, `{id}` or another, replaced by each of `ids`) and returns what the document does not
 * list for the operation (`post /x → 418`), and every documented status that was seen.
 */
export async function probeContract(
  base: string,
  document: DocumentedPaths,
  cases: readonly ContractCase[],
  ids: readonly string[] = [],
): Promise<{ undocumented: string[]; seen: Set<string> }> {
  const undocumented: string[] = [];
  const seen = new Set<string>();
  for (const [route, method, init] of cases) {
    for (const id of PLACEHOLDER.test(route) ? ids : [undefined]) {
      const url = id === undefined ? route : route.replace(PLACEHOLDER, id);
      const response = await fetch(`${base}${url}`, init);
      await response.arrayBuffer();
      const operation = route.split('?')[0];
      const documented = document.paths[operation]?.[method]?.responses ?? {};
      if (String(response.status) in documented) seen.add(`${method} ${operation} ${response.status}`);
      else undocumented.push(`${method} ${url} → ${response.status}`);
    }
  }
  return { undocumented, seen };
}

/** The base URL of an app listening on 127.0.0.1, and the OpenAPI document it serves at /openapi.json. */
export async function servedOpenApi<D>(app: {
  getHttpServer(): { address(): unknown };
}): Promise<{ base: string; document: D }> {
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const document = (await (await fetch(`${base}/openapi.json`)).json()) as D;
  return { base, document };
}
