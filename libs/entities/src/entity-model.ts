import { z } from 'zod';
import {
  EntityDefinition,
  FieldDefinition,
  FieldType,
  MAX_IDENTIFIER,
  NamedQueryDefinition,
  QueryParameterDefinition,
  SYSTEM_COLUMNS,
  hasDefault,
  replaceQueryParameters,
  stripTrailingSemicolon,
} from './definition';
import { FieldProblem, formatPath, problemsFromZod } from '@choreo/http';
import { EntityError } from './errors';

/** A value as it is sent to PostgreSQL as a query parameter. */
export type SqlValue = string | number | boolean | null;

/** One column of an entity table, as PostgreSQL's `format_type()` spells its type. */
export interface ColumnModel {
  name: string;
  sqlType: string;
  notNull: boolean;
  /** SQL default expression, built from the definition only (never from request input). */
  defaultSql?: string;
  kind: 'primary-key' | 'field' | 'system';
  /** For a field: its definition. */
  field?: FieldDefinition;
}

export interface IndexModel {
  name: string;
  columns: string[];
  method: 'btree' | 'gin';
  unique: boolean;
}

/** The rules of a field the database enforces too, each a named CHECK constraint. */
export const CHECK_RULES = ['min', 'max', 'min_length', 'max_length', 'enum'] as const;
export type CheckRule = (typeof CHECK_RULES)[number];

/**
 * One CHECK constraint derived from a field's rule. The name ends in a hash of the expression, so
 * a changed bound is a new name: schema sync adds what is missing and drops managed names
 * (`isManagedCheck`) the definition no longer has, without parsing PostgreSQL's deparsed SQL.
 */
export interface CheckModel {
  name: string;
  column: string;
  rule: CheckRule;
  /** SQL boolean expression over the column, built from the definition only. */
  expression: string;
  /** The rule as the definition spells it: `min: 0`. */
  source: string;
  /** What a value breaking it is told, the same words as the app's validation. */
  message: string;
}

const MANAGED_CHECK = new RegExp(`_(${CHECK_RULES.join('|')})_[0-9a-f]{8}$`);

/** Whether a constraint name is one that schema sync derives from a definition (and may drop). */
export function isManagedCheck(name: string): boolean {
  return MANAGED_CHECK.test(name);
}

export interface QueryParameterModel {
  name: string;
  definition: QueryParameterDefinition;
  sqlType: string;
}

export interface NamedQueryModel {
  name: string;
  description?: string;
  /** The SQL with every `:name` replaced by a typed positional parameter (`($1::text)`). */
  text: string;
  /** Parameter names in positional order. */
  params: QueryParameterModel[];
}

export interface PrimaryKeyModel {
  name: string;
  type: 'uuid' | 'bigint' | 'text';
}

/** Everything derived from one definition: table, columns, indexes, validators, named queries. */
export interface EntityModel {
  name: string;
  table: string;
  description?: string;
  /** The definition file, for messages. */
  file: string;
  definition: EntityDefinition;
  primaryKey: PrimaryKeyModel;
  /** The declared fields, in definition order. */
  fields: Map<string, FieldDefinition>;
  /** Every column, primary key first, system columns last. */
  columns: ColumnModel[];
  indexes: IndexModel[];
  checks: CheckModel[];
  queries: Map<string, NamedQueryModel>;
}

const SQL_TYPES: Record<Exclude<FieldType, 'decimal'>, string> = {
  uuid: 'uuid',
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  boolean: 'boolean',
  timestamp: 'timestamp with time zone',
  date: 'date',
  jsonb: 'jsonb',
  // Text plus a CHECK (and the app's validation) rather than a PostgreSQL enum type: changing the
  // values is then a constraint schema sync replaces, with no ALTER TYPE to coordinate.
  enum: 'text',
};

export function sqlTypeOf(field: { type: FieldType; precision?: number; scale?: number }): string {
  if (field.type === 'decimal') {
    return field.precision === undefined ? 'numeric' : `numeric(${field.precision},${field.scale ?? 0})`;
  }
  return SQL_TYPES[field.type];
}

/** A SQL string literal; only ever applied to values from a definition file. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. Names come from definitions (validated as lower_snake_case) only. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function defaultSql(field: FieldDefinition): string | undefined {
  if (!('default' in field) || field.default === undefined) return undefined;
  switch (field.type) {
    case 'text':
    case 'enum':
      return quoteLiteral(field.default);
    case 'integer':
    case 'bigint':
    case 'decimal':
      return String(field.default);
    case 'boolean':
      return field.default ? 'true' : 'false';
    case 'timestamp':
      return 'now()';
    case 'date':
      return 'current_date';
    case 'jsonb':
      return `${quoteLiteral(JSON.stringify(field.default))}::jsonb`;
  }
}

function indexName(table: string, columns: string[], unique: boolean): string {
  const name = `${table}_${columns.join('_')}_${unique ? 'key' : 'idx'}`;
  return name.length <= MAX_IDENTIFIER ? name : `${name.slice(0, MAX_IDENTIFIER - 9)}_${shortHash(name)}`;
}

/** Eight hex digits of FNV-1a: a stable short fingerprint of `text` (names, cursors). */
export function shortHash(text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

function checkName(table: string, column: string, rule: CheckRule, expression: string): string {
  const suffix = `_${rule}_${shortHash(expression)}`;
  return `${`${table}_${column}`.slice(0, MAX_IDENTIFIER - suffix.length)}${suffix}`;
}

/**
 * The CHECK constraints of a field: min/max, minLength/maxLength (in code points, as
 * `char_length` and JSON Schema count) and enum values. Not `pattern`: PostgreSQL's regular
 * expressions are POSIX AREs, not ECMAScript (`\b`, `\w`, `\d`, `.`, `\p{…}` differ), and a
 * constraint that disagrees with the app would refuse values the API accepted.
 */
function fieldChecks(table: string, name: string, field: FieldDefinition): CheckModel[] {
  const ident = quoteIdent(name);
  const checks: Omit<CheckModel, 'name'>[] = [];
  const add = (rule: CheckRule, expression: string, source: string, message: string) =>
    checks.push({ column: name, rule, expression, source, message });
  switch (field.type) {
    case 'integer':
    case 'bigint':
    case 'decimal':
      if (field.min !== undefined)
        add('min', `${ident} >= ${field.min}`, `min: ${field.min}`, `must be >= ${field.min}`);
      if (field.max !== undefined)
        add('max', `${ident} <= ${field.max}`, `max: ${field.max}`, `must be <= ${field.max}`);
      break;
    case 'text':
      if (field.minLength !== undefined && field.minLength > 0)
        add(
          'min_length',
          `char_length(${ident}) >= ${field.minLength}`,
          `minLength: ${field.minLength}`,
          `must be at least ${field.minLength} characters`,
        );
      if (field.maxLength !== undefined)
        add(
          'max_length',
          `char_length(${ident}) <= ${field.maxLength}`,
          `maxLength: ${field.maxLength}`,
          `must be at most ${field.maxLength} characters`,
        );
      break;
    case 'enum':
      add(
        'enum',
        `${ident} IN (${field.values.map(quoteLiteral).join(', ')})`,
        `values: [${field.values.join(', ')}]`,
        `must be one of ${field.values.join(', ')}`,
      );
      break;
    default:
      break;
  }
  return checks.map((check) => ({ ...check, name: checkName(table, name, check.rule, check.expression) }));
}

/** Builds the model of one validated definition. */
export function compileEntity(definition: EntityDefinition, file: string): EntityModel {
  const table = definition.name;
  const primaryKey: PrimaryKeyModel = {
    name: definition.primaryKey?.name ?? 'id',
    type: definition.primaryKey?.type ?? 'uuid',
  };
  const fields = new Map(Object.entries(definition.fields));
  const columns: ColumnModel[] = [
    {
      name: primaryKey.name,
      sqlType: primaryKey.type,
      notNull: true,
      kind: 'primary-key',
      // The app sends UUIDv7 (index-friendly); the default serves rows written by hand.
      defaultSql: primaryKey.type === 'uuid' ? 'gen_random_uuid()' : undefined,
    },
  ];
  for (const [name, field] of fields) {
    columns.push({
      name,
      sqlType: sqlTypeOf(field),
      notNull: field.required === true,
      defaultSql: defaultSql(field),
      kind: 'field',
      field,
    });
  }
  columns.push(
    { name: 'version', sqlType: 'integer', notNull: true, defaultSql: '1', kind: 'system' },
    {
      name: 'created_at',
      sqlType: 'timestamp with time zone',
      notNull: true,
      defaultSql: 'now()',
      kind: 'system',
    },
    {
      name: 'updated_at',
      sqlType: 'timestamp with time zone',
      notNull: true,
      defaultSql: 'now()',
      kind: 'system',
    },
  );

  const indexes: IndexModel[] = [];
  for (const [name, field] of fields) {
    if (field.unique)
      indexes.push({ name: indexName(table, [name], true), columns: [name], method: 'btree', unique: true });
  }
  for (const index of definition.indexes ?? []) {
    const unique = index.unique === true;
    indexes.push({
      name: indexName(table, index.fields, unique),
      columns: index.fields,
      method: index.type ?? 'btree',
      unique,
    });
  }

  const checks = [...fields].flatMap(([name, field]) => fieldChecks(table, name, field));

  const queries = new Map<string, NamedQueryModel>();
  for (const [name, query] of Object.entries(definition.queries ?? {})) {
    queries.set(name, compileQuery(name, query));
  }

  return {
    name: definition.name,
    table,
    description: definition.description,
    file,
    definition,
    primaryKey,
    fields,
    columns,
    indexes,
    checks,
    queries,
  };
}

function compileQuery(name: string, query: NamedQueryDefinition): NamedQueryModel {
  const params: QueryParameterModel[] = [];
  const position = new Map<string, number>();
  const text = replaceQueryParameters(stripTrailingSemicolon(query.sql), (param) => {
    let index = position.get(param);
    const definition = query.params?.[param];
    if (definition === undefined) throw new Error(`query ${name}: undeclared parameter :${param}`);
    if (index === undefined) {
      params.push({ name: param, definition, sqlType: sqlTypeOf(definition) });
      index = params.length;
      position.set(param, index);
    }
    // The cast gives PostgreSQL the type even where the context does not (`:p is null`).
    return `($${index}::${sqlTypeOf(definition)})`;
  });
  return { name, description: query.description, text, params };
}

// ---------------------------------------------------------------------------------------------
// Values: the wire format of each type, and how request input becomes a query parameter.

const INT32 = { min: -2147483648, max: 2147483647 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const DECIMAL_TEXT = /^-?(\d+)(?:\.(\d+))?$/;

function decimalSchema(field: Constraints) {
  return z
    .union([z.number(), z.string().regex(DECIMAL_TEXT, 'expected a decimal number such as 12.50')])
    .transform((value, ctx) => {
      const text = typeof value === 'number' ? String(value) : value;
      const match = DECIMAL_TEXT.exec(text);
      if (!match || !Number.isFinite(Number(text))) {
        ctx.addIssue({ code: 'custom', message: 'expected a finite decimal number' });
        return z.NEVER;
      }
      if (field.precision !== undefined) {
        const scale = field.scale ?? 0;
        const fraction = match[2] ?? '';
        if (fraction.replace(/0+$/, '').length > scale) {
          ctx.addIssue({ code: 'custom', message: `at most ${scale} digits after the point` });
        }
        if (match[1].replace(/^0+/, '').length > field.precision - scale) {
          ctx.addIssue({
            code: 'custom',
            message: `at most ${field.precision - scale} digits before the point`,
          });
        }
      }
      if (field.min !== undefined && Number(text) < field.min) {
        ctx.addIssue({ code: 'custom', message: `must be >= ${field.min}` });
      }
      if (field.max !== undefined && Number(text) > field.max) {
        ctx.addIssue({ code: 'custom', message: `must be <= ${field.max}` });
      }
      return text;
    });
}

function bigintSchema(field: Constraints) {
  return z
    .union([z.int(), z.string().regex(/^-?\d{1,19}$/, 'expected an integer')])
    .transform((value, ctx) => {
      const big = BigInt(value);
      if (big < INT64.min || big > INT64.max)
        ctx.addIssue({ code: 'custom', message: 'out of range for bigint' });
      if (field.min !== undefined && big < BigInt(field.min)) {
        ctx.addIssue({ code: 'custom', message: `must be >= ${field.min}` });
      }
      if (field.max !== undefined && big > BigInt(field.max)) {
        ctx.addIssue({ code: 'custom', message: `must be <= ${field.max}` });
      }
      return big.toString();
    });
}

/**
 * The schema of one value of a field. `constrained` adds the definition's min/max, lengths and
 * pattern (bodies); without it only the type is checked (filter operands: `price=gt.-1` is fine).
 */
export function valueSchema(
  field: FieldDefinition | QueryParameterDefinition,
  constrained: boolean,
): z.ZodType<SqlValue> {
  // Schemas are built once per definition: zod compiles a schema on its first parse, so a schema
  // built per request would pay that compilation every time.
  let cached = valueSchemas.get(field);
  if (!cached) valueSchemas.set(field, (cached = {}));
  const key = constrained ? 'constrained' : 'loose';
  return (cached[key] ??= buildValueSchema(field, constrained));
}

const valueSchemas = new WeakMap<
  object,
  { constrained?: z.ZodType<SqlValue>; loose?: z.ZodType<SqlValue> }
>();

function buildValueSchema(
  field: FieldDefinition | QueryParameterDefinition,
  constrained: boolean,
): z.ZodType<SqlValue> {
  // Query parameters carry no constraints; reading them through one optional shape keeps this flat.
  const f = field as Constraints;
  const c: Constraints = constrained ? f : {};
  switch (field.type) {
    case 'text': {
      let text = z.string().refine((v) => !v.includes('\0'), NUL_MESSAGE);
      if (c.pattern !== undefined)
        text = text.regex(new RegExp(`^(?:${c.pattern})$`, 'u'), `must match ${c.pattern}`);
      let schema: z.ZodType<string> = text;
      // Code points, not UTF-16 units: what JSON Schema and PostgreSQL's char_length count, so an
      // emoji is one character here, in the OpenAPI document and in the CHECK constraint alike.
      const { minLength, maxLength } = c;
      if (minLength !== undefined)
        schema = schema.refine((v) => codePoints(v) >= minLength, `must be at least ${minLength} characters`);
      if (maxLength !== undefined)
        schema = schema.refine((v) => codePoints(v) <= maxLength, `must be at most ${maxLength} characters`);
      return schema;
    }
    case 'integer': {
      const min = Math.max(c.min ?? INT32.min, INT32.min);
      const max = Math.min(c.max ?? INT32.max, INT32.max);
      return z.int('expected an integer').min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);
    }
    case 'bigint':
      return bigintSchema(c);
    case 'decimal':
      // Precision and scale are the column's type: checked for filters too, min/max only for bodies.
      return decimalSchema({ precision: f.precision, scale: f.scale, min: c.min, max: c.max });
    case 'boolean':
      return z.boolean();
    case 'uuid':
      return z.uuid('expected a UUID');
    case 'timestamp':
      return z.iso.datetime({
        offset: true,
        message: 'expected an RFC 3339 timestamp such as 2026-01-31T12:00:00Z',
      });
    case 'date':
      return z.iso.date('expected a date such as 2026-01-31');
    case 'jsonb':
      // Sent as JSON text: node-postgres would turn a JS array into a PostgreSQL array.
      return z
        .json()
        .refine((value) => !hasNul(value), `${NUL_MESSAGE} (in a string or key)`)
        .transform((value) => JSON.stringify(value));
    case 'enum':
      return f.values
        ? z.enum(f.values as [string, ...string[]], `must be one of ${f.values.join(', ')}`)
        : z.string();
  }
}

/** PostgreSQL stores no NUL (U+0000) in text or jsonb: refused up front, never a 500. */
export const NUL_MESSAGE = 'contains a NUL character (U+0000), which PostgreSQL cannot store';

// JSON depth is bounded by the body parser (see libs/runtime), so the recursion is too.
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([key, item]) => key.includes('\0') || hasNul(item));
  return false;
}

function codePoints(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}

interface Constraints {
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  precision?: number;
  scale?: number;
  values?: string[];
}

/** Converts a query-string operand to the type of the field, before `valueSchema` checks it. */
export function coerceText(type: FieldType, text: string): unknown {
  switch (type) {
    case 'integer':
      return /^-?\d+$/.test(text) ? Number(text) : text;
    case 'decimal':
      return text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'jsonb':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    default:
      return text;
  }
}

/** Parses one query-string operand for a field or parameter; a problem names `label`. */
export function parseOperand(
  field: FieldDefinition | QueryParameterDefinition,
  text: string,
  label: string,
): { value: SqlValue } | { problem: FieldProblem } {
  const parsed = valueSchema(field, false).safeParse(coerceText(field.type, text), { reportInput: true });
  if (parsed.success) return { value: parsed.data };
  return { problem: { field: label, message: problemsFromZod(parsed.error)[0]?.message ?? 'invalid value' } };
}

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

/** All entities of a deployment, by name. */
export class EntityCatalog {
  private readonly byName: Map<string, EntityModel>;

  constructor(models: Iterable<EntityModel>) {
    this.byName = new Map([...models].map((m) => [m.name, m]));
  }

  /** The model of `name`; throws EntityError('unknown_entity') for a name with no definition. */
  get(name: string): EntityModel {
    const model = this.byName.get(name);
    if (!model) throw EntityError.unknownEntity(name);
    return model;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(): EntityModel[] {
    return [...this.byName.values()];
  }
}
