import { Injectable } from '@nestjs/common';
import { EntityError, QueryInput } from '@choreo/entities';
import { Database, EntityPage, EntityRepository, EntityRow } from '@choreo/persistence';

/** A batch POST writes at most this many rows in its one transaction. */
export const MAX_BATCH = 1000;

/** The crud path: each request is one statement (a batch one transaction) through the shared entity repository. */
@Injectable()
export class CrudService {
  constructor(
    private readonly db: Database,
    private readonly entities: EntityRepository,
  ) {}

  /** The primary key column of `entity`, for the Location of a created row. */
  primaryKeyOf(entity: string): string {
    return this.entities.catalog.get(entity).primaryKey.name;
  }

  list(entity: string, query: QueryInput): Promise<EntityPage> {
    return this.entities.list(this.db, entity, query);
  }

  get(entity: string, id: string): Promise<EntityRow> {
    return this.entities.findById(this.db, entity, id);
  }

  create(entity: string, body: unknown): Promise<EntityRow | EntityRow[]> {
    // One row is one INSERT: atomic on its own, no BEGIN/COMMIT round trips needed.
    if (!Array.isArray(body)) return this.entities.insert(this.db, entity, body);
    if (body.length === 0 || body.length > MAX_BATCH) {
      throw EntityError.invalid(
        [{ field: 'body', message: `an array of 1 to ${MAX_BATCH} objects` }],
        'body',
      );
    }
    return this.db.transaction((tx) => this.entities.insertMany(tx, entity, body));
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
}
