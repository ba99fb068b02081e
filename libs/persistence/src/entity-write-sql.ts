import { v7 as uuidv7 } from 'uuid';
import {
  EntityError,
  EntityModel,
  InsertConflict,
  QueryInput,
  SqlValue,
  WriteValues,
  columnList,
  quoteIdent,
  validateWrite,
} from '@choreo/entities';
import { Queryable, sqlState } from './database';
import { translateWriteError } from './entity.repository';

/** SQL text and its parameters. */
export interface Statement {
  text: string;
  values: SqlValue[];
}

// PostgreSQL's refusals of a filter operand that only it can judge: a regular expression, a text
// search query or configuration, an operand too complex. The client's doing: 400, never a 500.
const BAD_FILTER_STATES: Record<string, string> = {
  '2201B': 'is not a valid regular expression',
  '22025': 'is not a valid LIKE pattern',
  '42601': 'is not a valid text search query',
  '42704': 'names no text search configuration',
  '22P02': 'is not a valid value for the field',
  '22021': 'has a character PostgreSQL cannot store',
  '54000': 'is too complex',
  '54001': 'is too complex',
};

/** Maps PostgreSQL's refusal of a filter to a 400 naming the filters; anything else passes through. */
export function translateFilterError(error: unknown, input: QueryInput): unknown {
  const why = BAD_FILTER_STATES[sqlState(error) ?? ''];
  if (!why) return error;
  const reserved = new Set(['select', 'order', 'limit', 'offset', 'cursor', 'columns', 'on_conflict']);
  const filters = Object.keys(input).filter((k) => !reserved.has(k));
  return EntityError.invalid(
    [{ field: filters.join(',') || 'filter', message: `a filter operand ${why}` }],
    'query',
  );
}

/** Runs a write of `model`'s rows; PostgreSQL's refusals become the EntityErrors a client can act on. */
export async function runEntityWrite<R extends Record<string, unknown>>(
  tx: Queryable,
  model: EntityModel,
  statement: Statement,
  query: QueryInput,
): Promise<R[]> {
  try {
    return (await tx.query<R>(statement.text, statement.values)).rows;
  } catch (error) {
    throw translateFilterError(translateWriteError(model, error), query);
  }
}

/**
 * Validates every body of a POST before writing any (problems named `[i].field` in a batch), a
 * UUIDv7 primary key for each that has none.
 */
export function validateInserts(model: EntityModel, bodies: unknown[], upsert: boolean): WriteValues[] {
  const problems = [];
  const rows: WriteValues[] = [];
  for (const [i, body] of bodies.entries()) {
    try {
      const values = validateWrite(model, body, upsert ? 'upsert' : 'create', bodies.length === 1 ? [] : [i]);
      if (model.primaryKey.type === 'uuid' && !values.has(model.primaryKey.name))
        values.set(model.primaryKey.name, uuidv7());
      rows.push(values);
    } catch (error) {
      if (!(error instanceof EntityError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw EntityError.invalid(problems, 'body');
  return rows;
}

/**
 * One row's INSERT, RETURNING `returning`. With `conflict` over `target`, a row that conflicts is
 * merged into the existing one (its version bumped; its primary key kept) or skipped.
 */
export function insertStatement(
  model: EntityModel,
  values: WriteValues,
  returning: string,
  conflict?: { target: string[] } & InsertConflict,
): Statement {
  const table = quoteIdent(model.table);
  const columns = [...values.keys()];
  let onConflict = '';
  if (conflict) {
    const target = conflict.target;
    const updates = columns
      .filter((c) => !target.includes(c) && c !== model.primaryKey.name)
      .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
    onConflict =
      conflict.ignoreDuplicates || updates.length === 0
        ? ` ON CONFLICT (${columnList(target)}) DO NOTHING`
        : ` ON CONFLICT (${columnList(target)}) DO UPDATE SET ${updates.join(', ')},` +
          ` "version" = ${table}."version" + 1, "updated_at" = now()`;
  }
  const text =
    columns.length === 0
      ? `INSERT INTO ${table} DEFAULT VALUES RETURNING ${returning}`
      : `INSERT INTO ${table} (${columnList(columns)}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})` +
        `${onConflict} RETURNING ${returning}`;
  return { text, values: [...values.values()] };
}

/** An UPDATE of the rows `where` matches: the patch applied, each version bumped, RETURNING `returning`. */
export function updateStatement(
  model: EntityModel,
  where: Statement,
  patch: WriteValues,
  returning: string,
): Statement {
  const values = [...where.values];
  const assignments = [...patch].map(([column, value]) => {
    values.push(value);
    return `${quoteIdent(column)} = $${values.length}`;
  });
  const text =
    `UPDATE ${quoteIdent(model.table)} SET ${assignments.join(', ')}, "version" = "version" + 1, "updated_at" = now()` +
    `${where.text} RETURNING ${returning}`;
  return { text, values };
}
