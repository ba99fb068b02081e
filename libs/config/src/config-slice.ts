import { z } from 'zod';
import { ActionableError } from './actionable-error';

/**
 * One concern's settings: the environment variables it reads (a zod shape, so each variable says
 * what it expects) and how they become a typed value.
 *
 * `shape` builds the zod schemas each time it is read. An app reads its environment once, at start,
 * and zod schemas are large (about 28 KB of heap for one `z.string().min(1).optional().describe(…)`
 * on zod 4): built only while `loadConfig` runs, the 60-odd variables of an app are garbage once it
 * has its typed config, about 1.5 MB less heap in every idle app (`npm run bench:footprint`).
 */
export interface ConfigSlice<T, S extends z.ZodRawShape = z.ZodRawShape> {
  readonly shape: S;
  readonly build: (env: Record<string, unknown>) => T;
}

export type ConfigOf<S> = S extends ConfigSlice<infer T> ? T : never;

/** Declares a config slice: variables validated by the shape `shape()` builds, then mapped by `build`. */
export function configSlice<S extends z.ZodRawShape, T>(
  shape: () => S,
  build: (env: z.infer<z.ZodObject<S>>) => T,
): ConfigSlice<T, S> {
  return {
    get shape() {
      return shape();
    },
    build: build as (env: Record<string, unknown>) => T,
  };
}

/** What is wrong with the environment: every bad or missing variable and what it expects. */
export class ConfigError extends ActionableError {
  constructor(readonly problems: { variable: string; problem: string }[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Validates every slice against the environment at once, so one message names every bad variable.
 * Returns `{ [slice]: value }`; throws ConfigError.
 */
export function loadConfig<S extends Record<string, ConfigSlice<unknown>>>(
  slices: S,
  env: NodeJS.ProcessEnv = process.env,
): { [K in keyof S]: ConfigOf<S[K]> } {
  const shape: z.ZodRawShape = {};
  for (const slice of Object.values(slices)) Object.assign(shape, slice.shape);
  // Empty strings count as unset: `FOO=` in a compose file or chart means "not given".
  const input = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      problem: describe(issue, shape[String(issue.path[0])]),
    }));
    throw new ConfigError(problems);
  }
  const result: Record<string, unknown> = {};
  for (const [name, slice] of Object.entries(slices)) result[name] = slice.build(parsed.data);
  return result as { [K in keyof S]: ConfigOf<S[K]> };
}

function describe(issue: z.core.$ZodIssue, schema: z.core.$ZodType | undefined): string {
  const description = schema ? z.globalRegistry.get(schema)?.description : undefined;
  const expected = description ? ` (expected: ${description})` : '';
  const message =
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required but not set' : issue.message;
  return `${message}${expected}`;
}

/** The typed value `loadConfig(slices)` returns. */
export type LoadedConfig<S extends Record<string, ConfigSlice<unknown>>> = { [K in keyof S]: ConfigOf<S[K]> };
