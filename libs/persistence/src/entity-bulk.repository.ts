import { v7 as uuidv7 } from 'uuid';
import {
  DEFAULT_LIST_LIMITS,
  EntityError,
  EntityModel,
  ListLimits,
  QueryInput,
  SqlValue,
  WriteValues,
  buildListStatement,
  columnList,
  conflictTarget,
  filteredWrite,
  quoteIdent,
  validateWrite,
  writeReturning,
} from '@choreo/entities';
import { Queryable, Tx, sqlState } from './database';
import { EntityPage, EntityRepository, translateWriteError } from './entity.repository';

/** How `Prefer: count=…` counts: exactly, the planner's estimate, or exact when the estimate is small. */
export type CountMode = 'exact' | 'planned' | 'estimated';

/** A page with the total of rows its filters match, when one was asked for. */
export interface CountedPage extends EntityPage {
  /** The offset of the first row (0 after a cursor). */
  offset: number;
  total?: number;
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

/**
 * The PostgREST-shaped operations over entities, beside `EntityRepository`'s one-row ones: a list
 * with its total, PATCH and DELETE by filter, and upsert. Every write is one statement, so each
 * changed row reaches CDC as any other write does.
 */
export class EntityBulkRepository {
  private readonly limits: ListLimits;

  constructor(
    readonly rows: EntityRepository,
    limits: ListLimits = DEFAULT_LIST_LIMITS,
  ) {
    this.limits = limits;
  }

  /** `GET /crud/:entity?…` with `Prefer: count=…`: the page and, when asked, the total its filters match. */
  async list(db: Queryable, entity: string, query: QueryInput, count?: CountMode): Promise<CountedPage> {
    const model = this.rows.catalog.get(entity);
    const statement = buildListStatement(model, query, this.limits);
    try {
      const [page, total] = await Promise.all([
        this.rows.list(db, entity, query),
        count === undefined ? undefined : this.count(db, model, statement.where, count),
      ]);
      return { ...page, offset: statement.afterCursor ? 0 : statement.offset, total };
    } catch (error) {
      throw translateFilterError(error, query);
    }
  }

  private async count(
    db: Queryable,
    model: EntityModel,
    where: { text: string; values: SqlValue[] },
    mode: CountMode,
  ): Promise<number> {
    const from = `FROM ${quoteIdent(model.table)}${where.text}`;
    if (mode !== 'exact') {
      const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
        `EXPLAIN (FORMAT JSON) SELECT 1 ${from}`,
        where.values,
      );
      const planned = rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
      // `estimated` counts exactly while that is cheap: up to one maximal page.
      if (mode === 'planned' || planned > this.limits.maxLimit) return planned;
    }
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n ${from}`, where.values);
    return Number(rows[0].n);
  }

  /** `PATCH /crud/:entity?filters`: the patch applied to every matching row, each version bumped. */
  async updateWhere(
    tx: Tx,
    entity: string,
    query: QueryInput,
    patch: unknown,
  ): Promise<Record<string, unknown>[]> {
    const model = this.rows.catalog.get(entity);
    const write = filteredWrite(model, query, 'PATCH');
    const values = validateWrite(model, patch, 'patch');
    const params = [...write.values];
    const assignments = [...values].map(([column, value]) => {
      params.push(value);
      return `${quoteIdent(column)} = $${params.length}`;
    });
    const text =
      `UPDATE ${quoteIdent(model.table)} SET ${assignments.join(', ')}, "version" = "version" + 1, "updated_at" = now()` +
      `${write.where} RETURNING ${write.returning}`;
    return this.write(tx, model, text, params, query);
  }

  /** `DELETE /crud/:entity?filters`: every matching row, returned as it was. */
  async deleteWhere(tx: Tx, entity: string, query: QueryInput): Promise<Record<string, unknown>[]> {
    const model = this.rows.catalog.get(entity);
    const write = filteredWrite(model, query, 'DELETE');
    const text = `DELETE FROM ${quoteIdent(model.table)}${write.where} RETURNING ${write.returning}`;
    return this.write(tx, model, text, write.values, query);
  }

  /**
   * `POST` PostgREST style: each body inserted, RETURNING the `select=` list. With `conflict`
   * (`Prefer: resolution=merge-duplicates|ignore-duplicates`), a row that conflicts over
   * `on_conflict` (default the primary key) is merged into the existing one (its version bumped) or
   * skipped. Returns the rows written (skipped ones are not).
   */
  async insert(
    tx: Tx,
    entity: string,
    bodies: unknown[],
    options: { query: QueryInput; conflict?: { onConflict?: string; ignoreDuplicates: boolean } },
  ): Promise<Record<string, unknown>[]> {
    const model = this.rows.catalog.get(entity);
    const conflict = options.conflict;
    const target = conflict && conflictTarget(model, conflict.onConflict);
    const returning = writeReturning(model, options.query);
    const problems = [];
    const rows: WriteValues[] = [];
    for (const [i, body] of bodies.entries()) {
      try {
        const values = validateWrite(
          model,
          body,
          conflict ? 'upsert' : 'create',
          bodies.length === 1 ? [] : [i],
        );
        if (model.primaryKey.type === 'uuid' && !values.has(model.primaryKey.name))
          values.set(model.primaryKey.name, uuidv7());
        rows.push(values);
      } catch (error) {
        if (!(error instanceof EntityError)) throw error;
        problems.push(...error.problems);
      }
    }
    if (problems.length > 0) throw EntityError.invalid(problems, 'body');
    const table = quoteIdent(model.table);
    const stored: Record<string, unknown>[] = [];
    for (const values of rows) {
      const columns = [...values.keys()];
      let onConflict = '';
      if (target && conflict) {
        const updates = columns
          .filter((c) => !target.includes(c))
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
      stored.push(...(await this.write(tx, model, text, [...values.values()], options.query)));
    }
    return stored;
  }

  private async write(
    tx: Queryable,
    model: EntityModel,
    text: string,
    values: SqlValue[],
    query: QueryInput,
  ): Promise<Record<string, unknown>[]> {
    try {
      return (await tx.query(text, values)).rows;
    } catch (error) {
      throw translateFilterError(translateWriteError(model, error), query);
    }
  }
}
