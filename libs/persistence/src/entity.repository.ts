import { types } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  CURSOR_COLUMN,
  CursorKeys,
  DEFAULT_LIST_LIMITS,
  EntityCatalog,
  EntityError,
  EntityModel,
  ListLimits,
  ListStatement,
  MALFORMED_CURSOR,
  QueryInput,
  SqlValue,
  WriteValues,
  buildListStatement,
  encodeCursor,
  isManagedCheck,
  parseId,
  parseQueryParameters,
  quoteIdent,
  validateWrite,
} from '@choreo/entities';
import { Database, Queryable, Tx, sqlState } from './database';

/** A row as the API returns it: every column, `version` being the ETag. */
export type EntityRow = Record<string, unknown> & { version: number };

export interface WriteOptions {
  /** Only if the row is still at this version (from `If-Match`); else EntityError('stale'). */
  ifMatch?: number;
}

/** One page of a list: its rows and, when the page is full, the `cursor` of the page after it. */
export interface EntityPage {
  rows: Record<string, unknown>[];
  nextCursor?: string;
}

// A cursor value PostgreSQL cannot read back as its column's type: it was not one we made.
const BAD_TEXT_REPRESENTATION = new Set(['22P02', '22007', '22008', '22003', '22023']);

// text[]'s OID (pg-types names the built-in scalar types only).
const TEXT_ARRAY_OID = 1009 as Parameters<typeof types.getTypeParser>[0];
/** PostgreSQL's text[] literal (`{a,"b c",NULL}`) as the driver would parse it. */
const parseTextArray = types.getTypeParser(TEXT_ARRAY_OID, 'text') as (text: string) => (string | null)[];

/** Named queries may not hold a read transaction open for longer than this. */
const QUERY_TIMEOUT_MS = 5000;

/**
 * Reads and writes of declared entities. Writes take the caller's transaction (`tx`), so the
 * crud app and the events path (row + outbox event in one transaction) run the same validation,
 * the same SQL and raise the same EntityErrors:
 *
 *   await db.transaction(async (tx) => {
 *     const row = await entities.insert(tx, 'product', body);
 *     await outbox.append(tx, …);
 *   });
 *
 * Each single-row write is one statement, so passing the Database itself (autocommit) is atomic
 * too and saves the BEGIN/COMMIT round trips when nothing else must commit with it.
 */
export class EntityRepository {
  constructor(
    readonly catalog: EntityCatalog,
    private readonly limits: ListLimits = DEFAULT_LIST_LIMITS,
  ) {}

  /** Validates `body` and inserts it; returns the stored row. */
  async insert(tx: Queryable, entity: string, body: unknown): Promise<EntityRow> {
    const model = this.catalog.get(entity);
    return this.insertValues(tx, model, this.withId(model, validateWrite(model, body, 'create')));
  }

  /** Validates every body first (problems named `[i].field`), then inserts them in order. */
  async insertMany(tx: Tx, entity: string, bodies: unknown[]): Promise<EntityRow[]> {
    const model = this.catalog.get(entity);
    const problems = [];
    const rows: WriteValues[] = [];
    for (const [i, body] of bodies.entries()) {
      try {
        rows.push(this.withId(model, validateWrite(model, body, 'create', [i])));
      } catch (error) {
        if (!(error instanceof EntityError)) throw error;
        problems.push(...error.problems);
      }
    }
    if (problems.length > 0) throw EntityError.invalid(problems, 'body');
    const stored: EntityRow[] = [];
    for (const values of rows) stored.push(await this.insertValues(tx, model, values));
    return stored;
  }

  /** Applies a partial update; bumps `version` and `updated_at`. */
  async update(
    tx: Queryable,
    entity: string,
    id: string,
    patch: unknown,
    options: WriteOptions = {},
  ): Promise<EntityRow> {
    const model = this.catalog.get(entity);
    const key = parseId(model, id);
    const values = validateWrite(model, patch, 'patch');
    const params: SqlValue[] = [];
    const assignments = [...values].map(([column, value]) => {
      params.push(value);
      return `${quoteIdent(column)} = $${params.length}`;
    });
    params.push(key);
    let where = `${quoteIdent(model.primaryKey.name)} = $${params.length}`;
    if (options.ifMatch !== undefined) {
      params.push(options.ifMatch);
      // Under READ COMMITTED a concurrent update makes this re-check the new row version: of two
      // writers holding the same ETag exactly one matches.
      where += ` AND "version" = $${params.length}`;
    }
    const text =
      `UPDATE ${quoteIdent(model.table)} SET ${assignments.join(', ')}, "version" = "version" + 1, "updated_at" = now()` +
      ` WHERE ${where} RETURNING *`;
    const { rows } = await this.write(tx, model, text, params);
    if (rows.length === 0) throw await this.missOrStale(tx, model, id, key);
    return rows[0];
  }

  /** Deletes a row; returns it as it was. */
  async delete(tx: Queryable, entity: string, id: string, options: WriteOptions = {}): Promise<EntityRow> {
    const model = this.catalog.get(entity);
    const key = parseId(model, id);
    const params: SqlValue[] = [key];
    let where = `${quoteIdent(model.primaryKey.name)} = $1`;
    if (options.ifMatch !== undefined) {
      params.push(options.ifMatch);
      where += ` AND "version" = $2`;
    }
    const { rows } = await this.write(
      tx,
      model,
      `DELETE FROM ${quoteIdent(model.table)} WHERE ${where} RETURNING *`,
      params,
    );
    if (rows.length === 0) throw await this.missOrStale(tx, model, id, key);
    return rows[0];
  }

  /**
   * One row by primary key; EntityError('not_found') when there is none. With `forUpdate` the row
   * stays locked until the caller's transaction ends: no other writer changes it in between.
   */
  async findById(
    db: Queryable,
    entity: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<EntityRow> {
    const model = this.catalog.get(entity);
    const { rows } = await db.query<EntityRow>(
      `SELECT * FROM ${quoteIdent(model.table)} WHERE ${quoteIdent(model.primaryKey.name)} = $1` +
        (options.forUpdate ? ' FOR UPDATE' : ''),
      [parseId(model, id)],
    );
    if (rows.length === 0) throw EntityError.notFound(model.name, id);
    return rows[0];
  }

  /**
   * `GET /crud/:entity?…`: filters, order, select, limit, offset or cursor (see buildListStatement).
   * A full page has a next-page cursor; a shorter one is the last.
   */
  list(db: Queryable, entity: string, query: QueryInput): Promise<EntityPage> {
    return this.listPage(db, this.listStatement(entity, query));
  }

  /** The SELECT of a list request (parsed and validated once; `listPage` runs it). */
  listStatement(entity: string, query: QueryInput): ListStatement {
    return buildListStatement(this.catalog.get(entity), query, this.limits);
  }

  /** Runs a list statement: its rows, and the next page's cursor when the page is full. */
  async listPage(db: Queryable, statement: ListStatement): Promise<EntityPage> {
    let rows: Record<string, unknown>[];
    try {
      ({ rows } = await db.query(statement.text, statement.values));
    } catch (error) {
      if (statement.afterCursor && BAD_TEXT_REPRESENTATION.has(sqlState(error) ?? '')) {
        throw EntityError.invalid([{ field: 'cursor', message: MALFORMED_CURSOR }], 'query');
      }
      throw error;
    }
    let last: string | undefined;
    for (const row of rows) {
      last = row[CURSOR_COLUMN] as string;
      // The alias is the last column, and deleting an object's last property keeps it fast.
      delete row[CURSOR_COLUMN];
    }
    if (last === undefined || rows.length < statement.limit) return { rows };
    return { rows, nextCursor: encodeCursor(statement, parseTextArray(last) as CursorKeys) };
  }

  /** Runs a named query of the definition in a read-only transaction, at most `limit` rows. */
  async runQuery(
    db: Database,
    entity: string,
    name: string,
    input: QueryInput,
  ): Promise<Record<string, unknown>[]> {
    const model = this.catalog.get(entity);
    const query = model.queries.get(name);
    if (!query) throw EntityError.unknownQuery(entity, name);
    const values: unknown[] = parseQueryParameters(query, input);
    const limitText = input.limit;
    if (limitText !== undefined && (Array.isArray(limitText) || !/^\d{1,9}$/.test(limitText))) {
      throw EntityError.invalid(
        [{ field: 'limit', message: 'expected a non-negative integer' }],
        'query parameters',
      );
    }
    values.push(
      Math.min(limitText === undefined ? this.limits.defaultLimit : Number(limitText), this.limits.maxLimit),
    );
    return db.transaction(
      async (tx) =>
        (await tx.query(`SELECT * FROM (${query.text}) AS q LIMIT $${values.length}`, values)).rows,
      { readOnly: true, statementTimeoutMs: QUERY_TIMEOUT_MS },
    );
  }

  private withId(model: EntityModel, values: WriteValues): WriteValues {
    if (model.primaryKey.type === 'uuid' && !values.has(model.primaryKey.name)) {
      // UUIDv7 is time-ordered: new rows land at the right edge of the primary key index.
      return new Map([[model.primaryKey.name, uuidv7()], ...values]);
    }
    return values;
  }

  private async insertValues(tx: Queryable, model: EntityModel, values: WriteValues): Promise<EntityRow> {
    const { rows } = await this.write(tx, model, insertText(model, values), [...values.values()]);
    return rows[0];
  }

  private async write(tx: Queryable, model: EntityModel, text: string, values: SqlValue[]) {
    try {
      return await tx.query<EntityRow>(text, values);
    } catch (error) {
      throw translateWriteError(model, error);
    }
  }

  private async missOrStale(
    tx: Queryable,
    model: EntityModel,
    id: string,
    key: SqlValue,
  ): Promise<EntityError> {
    const { rows } = await tx.query<{ version: number }>(
      `SELECT "version" FROM ${quoteIdent(model.table)} WHERE ${quoteIdent(model.primaryKey.name)} = $1`,
      [key],
    );
    return rows.length === 0
      ? EntityError.notFound(model.name, id)
      : EntityError.stale(model.name, id, rows[0].version);
  }
}

// The INSERT of each column set an entity is written with, built once: a body names its columns in
// the model's order (validateWrite), so an entity has few distinct sets.
const insertTexts = new WeakMap<EntityModel, Map<string, string>>();

function insertText(model: EntityModel, values: WriteValues): string {
  let texts = insertTexts.get(model);
  if (!texts) insertTexts.set(model, (texts = new Map()));
  const key = [...values.keys()].join(',');
  let text = texts.get(key);
  if (text === undefined) {
    const columns = [...values.keys()].map(quoteIdent);
    const placeholders = columns.map((_, i) => `$${i + 1}`);
    text =
      columns.length === 0
        ? `INSERT INTO ${quoteIdent(model.table)} DEFAULT VALUES RETURNING *`
        : `INSERT INTO ${quoteIdent(model.table)} (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING *`;
    // Bounded: the keys are subsets of the model's columns, in one order.
    if (texts.size < 1024) texts.set(key, text);
  }
  return text;
}

/** The field of a managed CHECK named `<table>_<field>_<rule>_<hash>` by another version of the definition. */
function fieldOfCheck(model: EntityModel, constraint: string): string | undefined {
  let found: string | undefined;
  for (const field of model.fields.keys()) {
    if (constraint.startsWith(`${model.table}_${field}_`) && field.length > (found?.length ?? -1))
      found = field;
  }
  return found;
}

/** Maps a PostgreSQL error of a write to the EntityError the caller can act on; others pass through. */
export function translateWriteError(model: EntityModel, error: unknown): unknown {
  const state = sqlState(error);
  const detail = error as { constraint?: string; column?: string; message?: string };
  if (state === '23505') {
    const index = model.indexes.find((i) => i.name === detail.constraint);
    const field = index
      ? index.columns.join(',')
      : detail.constraint === `${model.table}_pkey`
        ? model.primaryKey.name
        : (detail.constraint ?? 'unknown');
    return EntityError.conflict(model.name, field);
  }
  if (state === '23502' && detail.column) {
    return EntityError.invalid([{ field: detail.column, message: 'is required' }], 'body');
  }
  if (state === '23514') {
    // A CHECK from the definition (schema sync): the same words as the app's validation, which a
    // write from an older replica or a definition change can get past.
    const check = model.checks.find((c) => c.name === detail.constraint);
    if (check) return EntityError.invalid([{ field: check.column, message: check.message }], 'body');
    const field =
      detail.constraint && isManagedCheck(detail.constraint) && fieldOfCheck(model, detail.constraint);
    if (field) {
      return EntityError.invalid(
        [{ field, message: `breaks the database's rule ${detail.constraint} (the definition changed?)` }],
        'body',
      );
    }
  }
  if (state === '22003' || state === '22P02' || state === '23514' || state === '22001') {
    return EntityError.invalid(
      [{ field: detail.column ?? 'body', message: detail.message ?? 'invalid value' }],
      'body',
    );
  }
  return error;
}
