import { z } from 'zod';
import { FieldProblem, formatPath, problemsFromZod } from '@choreo/http';
import { SYSTEM_COLUMNS, hasDefault } from './field-definition';
import { EntityModel, NamedQueryModel, PrimaryKeyModel } from './entity-model';
import { EntityError } from './errors';
import { NUL_MESSAGE, parseOperand, valueSchema } from './field-values';
import { SqlValue } from './sql-text';

// Request input checked against a model: write bodies, route ids and named-query parameters.

const READ_ONLY = new Set<string>(SYSTEM_COLUMNS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The columns and values of a write, in a stable column order. */
export type WriteValues = Map<string, SqlValue>;

/** `upsert` is a create that may name the primary key of any type (the conflict target). */
export type WriteMode = 'create' | 'patch' | 'upsert';

const bodySchemas = new WeakMap<EntityModel, Partial<Record<WriteMode, z.ZodType>>>();

/** The zod schema of a create or patch body (read-only columns are checked before it). */
function bodySchema(model: EntityModel, mode: WriteMode): z.ZodType {
  let cached = bodySchemas.get(model);
  if (!cached) bodySchemas.set(model, (cached = {}));
  if (cached[mode]) return cached[mode];
  const shape: Record<string, z.ZodType<SqlValue | undefined>> = {};
  for (const [name, field] of model.fields) {
    let schema: z.ZodType<SqlValue | undefined> = valueSchema(field, true);
    const mustGive = mode !== 'patch' && field.required === true && !hasDefault(field);
    if (!field.required) schema = schema.nullable();
    if (!mustGive) schema = schema.optional();
    shape[name] = schema;
  }
  const pk = model.primaryKey;
  if (mode === 'upsert' && pk.type === 'bigint') {
    shape[pk.name] = z.union([z.int().positive(), z.string().regex(/^\d{1,19}$/)]).optional();
  } else if (mode !== 'patch' && pk.type !== 'bigint') {
    shape[pk.name] =
      pk.type === 'uuid'
        ? z.uuid('expected a UUID').optional()
        : z
            .string()
            .min(1)
            .max(200)
            .refine((v) => !v.includes('\0'), NUL_MESSAGE);
  }
  return (cached[mode] = z.object(shape).strict());
}

/**
 * Validates a create (`mode: 'create'`) or partial update body against the definition; throws
 * EntityError('invalid') naming every bad field (prefixed by `path`, e.g. `[2]` in a batch).
 */
export function validateWrite(
  model: EntityModel,
  body: unknown,
  mode: WriteMode,
  path: PropertyKey[] = [],
): WriteValues {
  if (!isPlainObject(body)) {
    throw EntityError.invalid([{ field: formatPath(path), message: 'expected a JSON object' }]);
  }
  const problems: FieldProblem[] = [];
  const pk = model.primaryKey;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (
      READ_ONLY.has(key) ||
      (key === pk.name && (mode === 'patch' || (mode === 'create' && pk.type === 'bigint')))
    ) {
      problems.push({ field: formatPath([...path, key]), message: 'is read-only' });
    } else {
      rest[key] = value;
    }
  }
  const parsed = bodySchema(model, mode).safeParse(rest, { reportInput: true });
  if (!parsed.success) problems.push(...problemsFromZod(parsed.error, path));
  if (problems.length > 0) throw EntityError.invalid(problems, 'body');
  const values: WriteValues = new Map();
  for (const column of model.columns) {
    const value = (parsed.data as Record<string, SqlValue | undefined>)[column.name];
    if (value !== undefined) values.set(column.name, value);
  }
  if (mode === 'patch' && values.size === 0) {
    throw EntityError.invalid([{ field: formatPath(path), message: 'names no field to change' }], 'body');
  }
  return values;
}

/** Validates the `:id` of a route against the primary key type. */
const ID_SCHEMAS: Record<PrimaryKeyModel['type'], z.ZodType<string>> = {
  uuid: z.uuid('expected a UUID'),
  bigint: z.string().regex(/^\d{1,19}$/, 'expected a positive integer'),
  text: z
    .string()
    .min(1)
    .refine((v) => !v.includes('\0'), NUL_MESSAGE),
};

export function parseId(model: EntityModel, id: string): SqlValue {
  const parsed = ID_SCHEMAS[model.primaryKey.type].safeParse(id);
  if (!parsed.success)
    throw EntityError.invalid(
      [{ field: model.primaryKey.name, message: parsed.error.issues[0]?.message ?? 'invalid' }],
      'id',
    );
  return parsed.data;
}

/** Parses the query-string parameters of a named query. */
export function parseQueryParameters(
  query: NamedQueryModel,
  input: Record<string, string | string[] | undefined>,
): SqlValue[] {
  const problems: FieldProblem[] = [];
  const known = new Set(query.params.map((p) => p.name));
  for (const key of Object.keys(input)) {
    if (!known.has(key) && key !== 'limit') problems.push({ field: key, message: 'unknown parameter' });
  }
  const values = query.params.map((param) => {
    const raw = input[param.name];
    if (raw === undefined) {
      if (param.definition.required) problems.push({ field: param.name, message: 'is required' });
      return null;
    }
    if (Array.isArray(raw)) {
      problems.push({ field: param.name, message: 'given more than once' });
      return null;
    }
    const parsed = parseOperand(param.definition, raw, param.name);
    if ('problem' in parsed) {
      problems.push(parsed.problem);
      return null;
    }
    return parsed.value;
  });
  if (problems.length > 0) throw EntityError.invalid(problems, 'query parameters');
  return values;
}
