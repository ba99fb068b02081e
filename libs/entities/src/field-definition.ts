import { z } from 'zod';

/** Longest PostgreSQL identifier; longer names are silently truncated, which would break lookups. */
export const MAX_IDENTIFIER = 63;

/** A table, column or parameter name: lower_snake_case, short enough for derived index names. */
export const sqlIdentifier = z
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

export type FieldDefinition = z.infer<typeof fieldDefinition>;

/** Whether the field has a default, so a create may leave it out. */
export function hasDefault(field: FieldDefinition): boolean {
  return 'default' in field && field.default !== undefined;
}
