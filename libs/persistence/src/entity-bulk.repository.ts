import {
  DEFAULT_LIST_LIMITS,
  EntityModel,
  InsertConflict,
  ListLimits,
  QueryInput,
  SqlValue,
  conflictTarget,
  filteredWrite,
  quoteIdent,
  validateWrite,
  writeReturning,
} from '@choreo/entities';
import { Queryable, Tx } from './database';
import { EntityPage, EntityRepository } from './entity.repository';
import {
  insertStatement,
  runEntityWrite,
  translateFilterError,
  updateStatement,
  validateInserts,
} from './entity-write-sql';

/** How `Prefer: count=…` counts: exactly, the planner's estimate, or exact when the estimate is small. */
export type CountMode = 'exact' | 'planned' | 'estimated';

/** A page with the total of rows its filters match, when one was asked for. */
export interface CountedPage extends EntityPage {
  /** The offset of the first row (0 after a cursor). */
  offset: number;
  total?: number;
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
    // Built (filters parsed, operands validated) once for the page and the count.
    const statement = this.rows.listStatement(entity, query);
    try {
      const [page, total] = await Promise.all([
        this.rows.listPage(db, statement),
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
    const where = { text: write.where, values: write.values };
    return runEntityWrite(tx, model, updateStatement(model, where, values, write.returning), query);
  }

  /** `DELETE /crud/:entity?filters`: every matching row, returned as it was. */
  async deleteWhere(tx: Tx, entity: string, query: QueryInput): Promise<Record<string, unknown>[]> {
    const model = this.rows.catalog.get(entity);
    const write = filteredWrite(model, query, 'DELETE');
    const text = `DELETE FROM ${quoteIdent(model.table)}${write.where} RETURNING ${write.returning}`;
    return runEntityWrite(tx, model, { text, values: write.values }, query);
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
    options: { query: QueryInput; conflict?: InsertConflict },
  ): Promise<Record<string, unknown>[]> {
    const model = this.rows.catalog.get(entity);
    const { conflict, query } = options;
    const target = conflict && { ...conflict, target: conflictTarget(model, conflict.onConflict) };
    const returning = writeReturning(model, query);
    const stored: Record<string, unknown>[] = [];
    for (const values of validateInserts(model, bodies, conflict !== undefined))
      stored.push(
        ...(await runEntityWrite(tx, model, insertStatement(model, values, returning, target), query)),
      );
    return stored;
  }
}
