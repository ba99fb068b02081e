import { z } from 'zod';
import { FIELD_TYPES, FieldType, sqlIdentifier } from './field-definition';

/** A parameter of a named query: a field type (no enum, no jsonb), optionally required. */
export const queryParameter = z
  .object({
    type: z.enum(FIELD_TYPES.filter((t) => t !== 'enum' && t !== 'jsonb') as [FieldType, ...FieldType[]]),
    required: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict();

/** A named read query of an entity: one SELECT with `:name` parameters. */
export const namedQuery = z
  .object({
    description: z.string().optional(),
    params: z.record(sqlIdentifier, queryParameter).optional(),
    sql: z
      .string()
      .min(1)
      .describe('one SELECT; parameters as :name. Runs in a read-only transaction, at most `limit` rows'),
  })
  .strict();

export type NamedQueryDefinition = z.infer<typeof namedQuery>;
export type QueryParameterDefinition = z.infer<typeof queryParameter>;

// `:name` but not the `::type` of a cast.
const PARAMETER = /(?<![:\w]):([a-z][a-z0-9_]*)/g;

/** The `:name` parameters a named query uses, in order of appearance (repeats kept). */
export function queryParameterNames(sql: string): string[] {
  return [...sql.matchAll(PARAMETER)].map((m) => m[1]);
}

/** Replaces each `:name` by what `replace` returns for it. */
export function replaceQueryParameters(sql: string, replace: (name: string) => string): string {
  return sql.replace(PARAMETER, (_, name: string) => replace(name));
}

export function stripTrailingSemicolon(sql: string): string {
  return sql.trim().replace(/;\s*$/, '');
}
