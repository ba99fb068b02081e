import { FieldType } from './field-definition';

/** A value as it is sent to PostgreSQL as a query parameter. */
export type SqlValue = string | number | boolean | null;

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

/** Eight hex digits of FNV-1a: a stable short fingerprint of `text` (names, cursors). */
export function shortHash(text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
