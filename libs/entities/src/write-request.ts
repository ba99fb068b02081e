import { EntityModel } from './entity-model';
import { SqlValue, quoteIdent } from './sql-text';
import { EntityError } from './errors';
import { filterConditions, filterableColumns } from './filters';
import { QueryInput, StatementBuilder, splitList } from './query-syntax';
import { selectItems, selectList } from './list-query';

/** The rows a PATCH or DELETE by filter touches: its WHERE, the values it uses, and what it returns. */
export interface FilteredWrite {
  /** ` WHERE …` over the filters; never empty (an unfiltered bulk write is refused). */
  where: string;
  values: SqlValue[];
  /** The RETURNING list of `select=` (`*` when absent). */
  returning: string;
}

function single(input: QueryInput, key: string): string | undefined {
  const value = input[key];
  if (Array.isArray(value))
    throw EntityError.invalid([{ field: key, message: 'given more than once' }], 'query');
  return value;
}

/**
 * The filters of `PATCH /crud/:entity?…` or `DELETE /crud/:entity?…` (PostgREST's syntax). A write
 * with no filter would touch every row: refused, naming what to add. `order`/`limit` are refused too
 * (choreo does not limit bulk writes).
 */
export function filteredWrite(
  model: EntityModel,
  input: QueryInput,
  verb: 'PATCH' | 'DELETE',
): FilteredWrite {
  const sql = new StatementBuilder();
  const conditions = filterConditions(model, input, sql);
  const returning = selectList(single(input, 'select'), filterableColumns(model), sql.problems);
  for (const key of ['order', 'limit', 'offset', 'cursor', 'columns', 'on_conflict'])
    if (input[key] !== undefined) sql.problems.push({ field: key, message: `not taken by ${verb}` });
  if (sql.problems.length === 0 && conditions.length === 0) {
    sql.problems.push({
      field: 'filter',
      message: `${verb} of ${model.name} rows needs at least one filter (e.g. ?${model.primaryKey.name}=eq.…); an unfiltered ${verb} would touch every row`,
    });
  }
  if (sql.problems.length > 0) throw EntityError.invalid(sql.problems, 'query');
  return { where: ` WHERE ${conditions.join(' AND ')}`, values: sql.values, returning };
}

/** The RETURNING list of a write's `select=` (`*` when absent). */
export function writeReturning(model: EntityModel, input: QueryInput): string {
  const problems: { field: string; message: string }[] = [];
  const returning = selectList(single(input, 'select'), filterableColumns(model), problems);
  if (problems.length > 0) throw EntityError.invalid(problems, 'query');
  return returning;
}

/**
 * What a write answers for each full row it wrote, as `select=` names it: the same columns and
 * renames as `writeReturning` gives in SQL, for a caller that needs the whole row too (the events
 * path records it in its event).
 */
export function writeProjection(
  model: EntityModel,
  input: QueryInput,
): (row: Record<string, unknown>) => Record<string, unknown> {
  const problems: { field: string; message: string }[] = [];
  const items = selectItems(single(input, 'select'), filterableColumns(model), problems);
  if (problems.length > 0) throw EntityError.invalid(problems, 'query');
  if (items.length === 1 && items[0] === '*') return (row) => row;
  return (row) => {
    const projected: Record<string, unknown> = {};
    for (const item of items)
      if (item === '*') Object.assign(projected, row);
      else projected[item.alias] = row[item.column];
    return projected;
  };
}

/**
 * `on_conflict=a,b` of an upsert: the primary key (the default) or the fields of a unique index,
 * since PostgreSQL needs a unique constraint to detect the conflict.
 */
export function conflictTarget(model: EntityModel, text: string | undefined): string[] {
  if (text === undefined) return [model.primaryKey.name];
  const columns = splitList(text).map((c) => c.replace(/^"|"$/g, ''));
  const same = (a: string[]) => a.length === columns.length && a.every((c) => columns.includes(c));
  if (same([model.primaryKey.name]) || model.indexes.some((i) => i.unique && same(i.columns))) return columns;
  const unique = model.indexes.filter((i) => i.unique).map((i) => i.columns.join(','));
  throw EntityError.invalid(
    [
      {
        field: 'on_conflict',
        message: `names no unique key of ${model.name}; use ${[model.primaryKey.name, ...unique].join(' or ')}`,
      },
    ],
    'query',
  );
}

/**
 * PostgREST's `columns=a,b` of an insert: only those keys of each object are written, and a key an
 * object lacks is null unless `Prefer: missing=default` (then the column's default applies).
 */
export function applyColumns(
  model: EntityModel,
  bodies: unknown[],
  text: string | undefined,
  missingDefault: boolean,
): unknown[] {
  if (text === undefined) return bodies;
  const names = splitList(text).map((c) => c.replace(/^"|"$/g, ''));
  const known = new Set([model.primaryKey.name, ...model.fields.keys()]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw EntityError.invalid(
      [{ field: 'columns', message: `unknown field: ${unknown.join(', ')}` }],
      'query',
    );
  return bodies.map((body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const picked: Record<string, unknown> = {};
    for (const name of names) {
      const value = (body as Record<string, unknown>)[name];
      if (value !== undefined) picked[name] = value;
      else if (!missingDefault && name !== model.primaryKey.name) picked[name] = null;
    }
    return picked;
  });
}

/** `"a", "b"` for SQL. */
export function columnList(columns: readonly string[]): string {
  return columns.map(quoteIdent).join(', ');
}
