import {
  EntityError,
  InsertConflict,
  QueryInput,
  SqlValue,
  WriteValues,
  conflictTarget,
  filteredWrite,
  quoteIdent,
  validateWrite,
} from '@choreo/entities';
import type { Tx } from './database';
import type { EntityRepository, EntityRow } from './entity.repository';
import { insertStatement, runEntityWrite, updateStatement, validateInserts } from './entity-write-sql';

/** One row a write changed, whole: before (null for a create) and after (null for a delete). */
export type RowChange =
  | { operation: 'created'; before: null; after: EntityRow }
  | { operation: 'updated'; before: EntityRow; after: EntityRow }
  | { operation: 'deleted'; before: EntityRow; after: null };

/**
 * The PostgREST-shaped writes (bulk insert, upsert, PATCH and DELETE by filter) with the same
 * validation and SQL as `EntityBulkRepository`, answering each changed row whole, before and after,
 * so the caller can record an event per row in the same transaction (the events path). Rows are
 * locked before they are read for a before-image: no other writer slips in between.
 */
export class EntityChangeRepository {
  constructor(readonly rows: EntityRepository) {}

  /** `POST` with an array or one object; with `conflict`, an upsert (merged rows are updates). */
  async insert(
    tx: Tx,
    entity: string,
    bodies: unknown[],
    options: { query: QueryInput; conflict?: InsertConflict },
  ): Promise<RowChange[]> {
    const model = this.rows.catalog.get(entity);
    const { conflict, query } = options;
    const target = conflict && { ...conflict, target: conflictTarget(model, conflict.onConflict) };
    const changes: RowChange[] = [];
    for (const values of validateInserts(model, bodies, target !== undefined)) {
      // The row an upsert would merge into, locked: its before-image is exactly what gets replaced.
      const before = target && (await this.lockWhereEqual(tx, entity, target.target, values, query));
      const [after] = await runEntityWrite<EntityRow>(
        tx,
        model,
        insertStatement(model, values, '*', target),
        query,
      );
      if (!after) continue; // a duplicate skipped (ignore-duplicates, or nothing to merge)
      if (before) changes.push({ operation: 'updated', before, after });
      else if (after.version === 1) changes.push({ operation: 'created', before: null, after });
      // Merged into a row another transaction inserted after the lock found none: no before-image
      // to record, so the whole write is refused (rolled back) as the conflict it is.
      else throw EntityError.conflict(model.name, target?.target.join(',') ?? model.primaryKey.name);
    }
    return changes;
  }

  /** `PATCH ?filters`: every matching row locked and read, then changed. */
  async updateWhere(tx: Tx, entity: string, query: QueryInput, patch: unknown): Promise<RowChange[]> {
    const model = this.rows.catalog.get(entity);
    const write = filteredWrite(model, query, 'PATCH');
    const values = validateWrite(model, patch, 'patch');
    const key = model.primaryKey.name;
    // Primary key order: two bulk writes over the same rows lock them in one order, never deadlock.
    const locked = await runEntityWrite<EntityRow>(
      tx,
      model,
      {
        text: `SELECT * FROM ${quoteIdent(model.table)}${write.where} ORDER BY ${quoteIdent(key)} FOR UPDATE`,
        values: write.values,
      },
      query,
    );
    if (locked.length === 0) return [];
    const where = {
      text: ` WHERE ${quoteIdent(key)} = ANY($1)`,
      // pg sends a JS array as a PostgreSQL array: one parameter, however many rows.
      values: [locked.map((row) => row[key]) as unknown as SqlValue],
    };
    const updated = await runEntityWrite<EntityRow>(
      tx,
      model,
      updateStatement(model, where, values, '*'),
      query,
    );
    // In lock (primary key) order: a stable order for the answer and the events alike.
    const afterOf = new Map(updated.map((row) => [String(row[key]), row]));
    return locked.map((before) => ({
      operation: 'updated',
      before,
      after: afterOf.get(String(before[key])) as EntityRow,
    }));
  }

  /** `DELETE ?filters`: every matching row, as it was. */
  async deleteWhere(tx: Tx, entity: string, query: QueryInput): Promise<RowChange[]> {
    const model = this.rows.catalog.get(entity);
    const write = filteredWrite(model, query, 'DELETE');
    const text = `DELETE FROM ${quoteIdent(model.table)}${write.where} RETURNING *`;
    const deleted = await runEntityWrite<EntityRow>(tx, model, { text, values: write.values }, query);
    return deleted.map((before) => ({ operation: 'deleted', before, after: null }));
  }

  private async lockWhereEqual(
    tx: Tx,
    entity: string,
    columns: string[],
    values: WriteValues,
    query: QueryInput,
  ): Promise<EntityRow | undefined> {
    const model = this.rows.catalog.get(entity);
    const conditions = columns.map((column, i) => `${quoteIdent(column)} = $${i + 1}`);
    const statement = {
      text: `SELECT * FROM ${quoteIdent(model.table)} WHERE ${conditions.join(' AND ')} FOR UPDATE`,
      values: columns.map((column) => values.get(column) ?? null),
    };
    return (await runEntityWrite<EntityRow>(tx, model, statement, query))[0];
  }
}
