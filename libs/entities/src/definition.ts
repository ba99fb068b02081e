import { z } from 'zod';
import { aggregationRule } from '@choreo/aggregation';

/** Longest PostgreSQL identifier; longer names are silently truncated, which would break lookups. */
export const MAX_IDENTIFIER = 63;

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case (a-z, 0-9, _), starting with a letter')
  .max(48, 'must be at most 48 characters');

/** Columns every entity table has; a field may not take these names. */
export const SYSTEM_COLUMNS = ['version', 'created_at', 'updated_at'] as const;
/** Query-string words of the list API; a field named like one could not be filtered. */
export const RESERVED_QUERY_WORDS = [
  'order',
  'limit',
  'offset',
  'select',
  'cursor',
  'columns',
  'on_conflict',
  'or',
  'and',
] as const;

const common = {
  description: z.string().optional(),
  required: z.boolean().optional().describe('NOT NULL; must be given on create unless it has a default'),
  unique: z.boolean().optional().describe('a unique index; a duplicate write answers 409 naming the field'),
};

const BOUND = 'inclusive; also a CHECK constraint in the database';

const textField = z
  .object({
    type: z.literal('text'),
    ...common,
    minLength: z
      .int()
      .min(0)
      .optional()
      .describe('in characters (code points); also a CHECK constraint in the database'),
    maxLength: z
      .int()
      .min(1)
      .optional()
      .describe('in characters (code points); also a CHECK constraint in the database'),
    pattern: z
      .string()
      .optional()
      .describe(
        'an ECMAScript regular expression the whole value must match; checked by the API only (PostgreSQL regular expressions are not ECMAScript)',
      ),
    default: z.string().optional(),
  })
  .strict();

const integerField = z
  .object({
    type: z.literal('integer'),
    ...common,
    min: z.int().optional().describe(BOUND),
    max: z.int().optional().describe(BOUND),
    default: z.int().optional(),
  })
  .strict();

const bigintField = z
  .object({
    type: z.literal('bigint'),
    ...common,
    min: z.int().optional().describe(BOUND),
    max: z.int().optional().describe(BOUND),
    default: z.int().optional(),
  })
  .strict();

const decimalField = z
  .object({
    type: z.literal('decimal'),
    ...common,
    precision: z.int().min(1).max(1000).optional().describe('total digits; numeric(precision, scale)'),
    scale: z.int().min(0).max(1000).optional().describe('digits after the point'),
    min: z.number().optional().describe(BOUND),
    max: z.number().optional().describe(BOUND),
    default: z.number().optional(),
  })
  .strict();

const booleanField = z
  .object({ type: z.literal('boolean'), ...common, default: z.boolean().optional() })
  .strict();

const uuidField = z.object({ type: z.literal('uuid'), ...common }).strict();

const timestampField = z
  .object({
    type: z.literal('timestamp'),
    ...common,
    default: z.literal('now').optional().describe('`now`: the time of the insert'),
  })
  .strict();

const dateField = z
  .object({
    type: z.literal('date'),
    ...common,
    default: z.literal('today').optional().describe('`today`: the date of the insert'),
  })
  .strict();

const jsonbField = z.object({ type: z.literal('jsonb'), ...common, default: z.json().optional() }).strict();

const enumField = z
  .object({
    type: z.literal('enum'),
    ...common,
    values: z
      .array(z.string().min(1))
      .min(1)
      .describe('the allowed values; also a CHECK constraint in the database'),
    default: z.string().optional(),
  })
  .strict();

export const fieldDefinition = z.discriminatedUnion('type', [
  textField,
  integerField,
  bigintField,
  decimalField,
  booleanField,
  uuidField,
  timestampField,
  dateField,
  jsonbField,
  enumField,
]);

export const FIELD_TYPES = [
  'uuid',
  'text',
  'integer',
  'bigint',
  'decimal',
  'boolean',
  'timestamp',
  'date',
  'jsonb',
  'enum',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const queryParameter = z
  .object({
    type: z.enum(FIELD_TYPES.filter((t) => t !== 'enum' && t !== 'jsonb') as [FieldType, ...FieldType[]]),
    required: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict();

const namedQuery = z
  .object({
    description: z.string().optional(),
    params: z.record(identifier, queryParameter).optional(),
    sql: z
      .string()
      .min(1)
      .describe('one SELECT; parameters as :name. Runs in a read-only transaction, at most `limit` rows'),
  })
  .strict();

const indexDefinition = z
  .object({
    fields: z.array(identifier).min(1),
    type: z.enum(['btree', 'gin']).optional().describe('btree (default) or gin (jsonb containment)'),
    unique: z.boolean().optional(),
  })
  .strict();

export const entityDefinition = z
  .object({
    $schema: z.string().optional(),
    name: identifier.describe('the entity and its table; must match the file name'),
    description: z.string().optional(),
    primaryKey: z
      .object({
        name: identifier.optional().describe('column name, `id` by default'),
        type: z
          .enum(['uuid', 'bigint', 'text'])
          .optional()
          .describe('uuid (default, UUIDv7), bigint (identity) or text'),
      })
      .strict()
      .optional(),
    fields: z.record(identifier, fieldDefinition),
    indexes: z.array(indexDefinition).optional(),
    queries: z.record(identifier, namedQuery).optional(),
    aggregations: z
      .array(aggregationRule)
      .optional()
      .describe(
        'windowed aggregation rules over this entity (cdc.<name> by default); see docs/aggregations.md',
      ),
  })
  .strict()
  .superRefine((entity, ctx) => {
    const pk = entity.primaryKey?.name ?? 'id';
    for (const [name, field] of Object.entries(entity.fields)) {
      const at = ['fields', name];
      if (name === pk || (SYSTEM_COLUMNS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: `'${name}' is a column every entity has; choose another name`,
        });
      }
      if ((RESERVED_QUERY_WORDS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: `'${name}' is a word of the list API; choose another name`,
        });
      }
      if (
        'min' in field &&
        'max' in field &&
        field.min !== undefined &&
        field.max !== undefined &&
        field.min > field.max
      ) {
        ctx.addIssue({ code: 'custom', path: [...at, 'min'], message: 'must not be greater than max' });
      }
      if (field.type === 'text') {
        if (
          field.minLength !== undefined &&
          field.maxLength !== undefined &&
          field.minLength > field.maxLength
        ) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'minLength'],
            message: 'must not be greater than maxLength',
          });
        }
        if (field.pattern !== undefined) {
          try {
            new RegExp(field.pattern, 'u');
          } catch (error) {
            ctx.addIssue({
              code: 'custom',
              path: [...at, 'pattern'],
              message: `not a regular expression: ${(error as Error).message}`,
            });
          }
        }
      }
      if (field.type === 'decimal' && field.scale !== undefined) {
        if (field.precision === undefined) {
          ctx.addIssue({ code: 'custom', path: [...at, 'scale'], message: 'needs precision too' });
        } else if (field.scale > field.precision) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'scale'],
            message: 'must not be greater than precision',
          });
        }
      }
      if (field.type === 'enum') {
        if (new Set(field.values).size !== field.values.length) {
          ctx.addIssue({ code: 'custom', path: [...at, 'values'], message: 'values must be distinct' });
        }
        if (field.default !== undefined && !field.values.includes(field.default)) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'default'],
            message: `must be one of ${field.values.join(', ')}`,
          });
        }
      }
      if (field.unique && field.type === 'jsonb') {
        ctx.addIssue({ code: 'custom', path: [...at, 'unique'], message: 'jsonb fields cannot be unique' });
      }
    }
    const known = new Set([pk, ...SYSTEM_COLUMNS, ...Object.keys(entity.fields)]);
    entity.indexes?.forEach((index, i) => {
      index.fields.forEach((name, j) => {
        if (!known.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['indexes', i, 'fields', j],
            message: `unknown field '${name}'`,
          });
        }
      });
      if (index.type === 'gin') {
        if (index.unique)
          ctx.addIssue({
            code: 'custom',
            path: ['indexes', i, 'unique'],
            message: 'a gin index cannot be unique',
          });
        const nonJson = index.fields.filter((f) => entity.fields[f] && entity.fields[f].type !== 'jsonb');
        if (nonJson.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['indexes', i, 'type'],
            message: `gin indexes need jsonb fields, not ${nonJson.join(', ')}`,
          });
        }
      }
    });
    for (const [name, query] of Object.entries(entity.queries ?? {})) {
      const at = ['queries', name, 'sql'];
      const used = new Set(queryParameterNames(query.sql));
      const declared = Object.keys(query.params ?? {});
      for (const param of used) {
        if (!declared.includes(param))
          ctx.addIssue({ code: 'custom', path: at, message: `uses :${param}, which is not in params` });
      }
      for (const param of declared) {
        if (!used.has(param)) {
          ctx.addIssue({
            code: 'custom',
            path: ['queries', name, 'params', param],
            message: `is not used in sql`,
          });
        }
      }
      if (stripTrailingSemicolon(query.sql).includes(';')) {
        ctx.addIssue({ code: 'custom', path: at, message: 'must be a single statement (no ;)' });
      }
      if (!/^\s*(select|with)\b/i.test(query.sql)) {
        ctx.addIssue({ code: 'custom', path: at, message: 'must be a SELECT (or WITH … SELECT)' });
      }
    }
  });

export type EntityDefinition = z.infer<typeof entityDefinition>;
export type FieldDefinition = z.infer<typeof fieldDefinition>;
export type IndexDefinition = z.infer<typeof indexDefinition>;
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

/** Whether the field has a default, so a create may leave it out. */
export function hasDefault(field: FieldDefinition): boolean {
  return 'default' in field && field.default !== undefined;
}
