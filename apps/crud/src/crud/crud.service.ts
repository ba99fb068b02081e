import { Injectable } from '@nestjs/common';
import { QueryInput, batchBodies, checkWritten, insertRequest } from '@choreo/entities';
import type { PostgrestAsk } from '@choreo/http';
import {
  CountedPage,
  CountMode,
  Database,
  EntityBulkRepository,
  EntityRepository,
  EntityRow,
} from '@choreo/persistence';

/**
 * The crud path: each request is one statement (a batch or a write by filter one transaction)
 * through the shared entity repositories.
 */
@Injectable()
export class CrudService {
  constructor(
    private readonly db: Database,
    private readonly entities: EntityRepository,
    private readonly bulk: EntityBulkRepository,
  ) {}

  /** The primary key column of `entity`, for the Location of a created row. */
  primaryKeyOf(entity: string): string {
    return this.entities.catalog.get(entity).primaryKey.name;
  }

  list(entity: string, query: QueryInput, count?: CountMode): Promise<CountedPage> {
    return this.bulk.list(this.db, entity, query, count);
  }

  get(entity: string, id: string): Promise<EntityRow> {
    return this.entities.findById(this.db, entity, id);
  }

  create(entity: string, body: unknown): Promise<EntityRow | EntityRow[]> {
    // One row is one INSERT: atomic on its own, no BEGIN/COMMIT round trips needed.
    if (!Array.isArray(body)) return this.entities.insert(this.db, entity, body);
    return this.db.transaction((tx) => this.entities.insertMany(tx, entity, batchBodies(body)));
  }

  /** POST with PostgREST's preferences: `columns`, upsert resolution, rows as `select` names them. */
  insert(
    entity: string,
    body: unknown,
    query: QueryInput,
    ask: PostgrestAsk,
  ): Promise<Record<string, unknown>[]> {
    const { bodies, conflict } = insertRequest(this.entities.catalog.get(entity), body, query, ask);
    return this.checked(ask, (tx) => this.bulk.insert(tx, entity, bodies, { query, conflict }));
  }

  updateWhere(entity: string, query: QueryInput, patch: unknown, ask: PostgrestAsk) {
    return this.checked(ask, (tx) => this.bulk.updateWhere(tx, entity, query, patch));
  }

  deleteWhere(entity: string, query: QueryInput, ask: PostgrestAsk) {
    return this.checked(ask, (tx) => this.bulk.deleteWhere(tx, entity, query));
  }

  update(entity: string, id: string, patch: unknown, ifMatch: number | undefined): Promise<EntityRow> {
    return this.entities.update(this.db, entity, id, patch, { ifMatch });
  }

  remove(entity: string, id: string, ifMatch: number | undefined): Promise<EntityRow> {
    return this.entities.delete(this.db, entity, id, { ifMatch });
  }

  runQuery(entity: string, name: string, params: QueryInput): Promise<Record<string, unknown>[]> {
    return this.entities.runQuery(this.db, entity, name, params);
  }

  /** Runs a write in a transaction that rolls back when its rows break what the request demanded. */
  private checked(
    ask: PostgrestAsk,
    write: Parameters<Database['transaction']>[0],
  ): Promise<Record<string, unknown>[]> {
    return this.db.transaction(async (tx) => {
      const rows = (await write(tx)) as Record<string, unknown>[];
      checkWritten(rows, ask);
      return rows;
    });
  }
}
