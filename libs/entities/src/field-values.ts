import { z } from 'zod';
import { FieldProblem, problemsFromZod } from '@choreo/http';
import { FieldDefinition, FieldType } from './field-definition';
import { QueryParameterDefinition } from './query-definition';
import { SqlValue } from './sql-text';

// The wire format of each field type, and how request input becomes a query parameter.

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
