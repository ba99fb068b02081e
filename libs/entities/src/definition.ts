import { z } from 'zod';
import { aggregationRule } from '@choreo/aggregation';
import { definitionJsonSchema, jsonSchemaText } from '@choreo/contracts';
import {
  FieldDefinition,
  RESERVED_QUERY_WORDS,
  SYSTEM_COLUMNS,
  fieldDefinition,
  sqlIdentifier,
} from './field-definition';
import {
  NamedQueryDefinition,
  namedQuery,
  queryParameterNames,
  stripTrailingSemicolon,
} from './query-definition';

const indexDefinition = z
  .object({
    fields: z.array(sqlIdentifier).min(1),
    type: z.enum(['btree', 'gin']).optional().describe('btree (default) or gin (jsonb containment)'),
    unique: z.boolean().optional(),
  })
  .strict();

export type IndexDefinition = z.infer<typeof indexDefinition>;

/** `entities/<name>.yaml`: the schema of one entity definition, with the rules that span fields. */
export const entityDefinition = z
  .object({
    $schema: z.string().optional(),
    name: sqlIdentifier.describe('the entity and its table; must match the file name'),
    description: z.string().optional(),
    primaryKey: z
      .object({
        name: sqlIdentifier.optional().describe('column name, `id` by default'),
        type: z
          .enum(['uuid', 'bigint', 'text'])
          .optional()
          .describe('uuid (default, UUIDv7), bigint (identity) or text'),
      })
      .strict()
      .optional(),
    fields: z.record(sqlIdentifier, fieldDefinition),
    indexes: z.array(indexDefinition).optional(),
    queries: z.record(sqlIdentifier, namedQuery).optional(),
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
    for (const [name, field] of Object.entries(entity.fields)) checkField(name, field, pk, ctx);
    checkIndexes(entity.indexes ?? [], entity.fields, pk, ctx);
    for (const [name, query] of Object.entries(entity.queries ?? {})) checkQuery(name, query, ctx);
  });

export type EntityDefinition = z.infer<typeof entityDefinition>;

type Issues = z.RefinementCtx;

/** A field's name against the table's columns and the list API's words, and its own bounds. */
function checkField(name: string, field: FieldDefinition, pk: string, ctx: Issues): void {
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
    if (field.minLength !== undefined && field.maxLength !== undefined && field.minLength > field.maxLength) {
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

/** Each index names known columns; a gin index is over jsonb fields and not unique. */
function checkIndexes(
  indexes: IndexDefinition[],
  fields: Record<string, FieldDefinition>,
  pk: string,
  ctx: Issues,
): void {
  const known = new Set([pk, ...SYSTEM_COLUMNS, ...Object.keys(fields)]);
  indexes.forEach((index, i) => {
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
      const nonJson = index.fields.filter((f) => fields[f] && fields[f].type !== 'jsonb');
      if (nonJson.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['indexes', i, 'type'],
          message: `gin indexes need jsonb fields, not ${nonJson.join(', ')}`,
        });
      }
    }
  });
}

/** A named query is one SELECT whose `:name` parameters are exactly the declared ones. */
function checkQuery(name: string, query: NamedQueryDefinition, ctx: Issues): void {
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

/** The JSON Schema of `entities/<name>.yaml`, for editors (`# yaml-language-server: $schema=…`) and CI. */
export function entityDefinitionJsonSchema(): Record<string, unknown> {
  return definitionJsonSchema(entityDefinition, {
    $id: 'https://choreo.dev/schemas/entity.schema.json',
    title: 'choreo entity definition',
    description: 'One entity: its table, fields, indexes and named read queries. See docs/entities.md.',
  });
}

/** The file's text, as shipped in `entities/entity.schema.json` (`npm run docs:definitions` writes it). */
export function entityDefinitionJsonSchemaText(): string {
  return jsonSchemaText(entityDefinitionJsonSchema());
}
