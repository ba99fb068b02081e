import { Injectable } from '@nestjs/common';
import { EntityEventData, entityEventType } from '@choreo/contracts';
import { QueryInput, checkWritten, insertRequest, writeProjection } from '@choreo/entities';
import type { PostgrestAsk } from '@choreo/http';
import {
  Database,
  EntityChangeRepository,
  EntityRepository,
  EntityRow,
  IdempotentRequest,
  RowChange,
  recordOutboxEvent,
  Tx,
  withIdempotency,
} from '@choreo/persistence';

export interface EntityWriteContext {
  correlationId: string;
  idempotencyKey?: string;
  ifMatch?: number;
}

/** A row write and the event recorded with it. `row` is null for a delete. */
export interface EntityWrite {
  row: EntityRow | null;
  eventId: string;
  replayed: boolean;
}

/** The rows of a PostgREST-style write (as `select=` names them) and their events, in row order. */
export interface EntityWrites {
  rows: Record<string, unknown>[];
  eventIds: string[];
  replayed: boolean;
}

/**
 * The events path for declared entities: the crud side's repository does the row write (same
 * validation, SQL and errors), and `<entity>.created|updated|deleted` is recorded in the same
 * transaction. The event's sequence is the row's version, so consumers can order and dedupe per row.
 */
@Injectable()
export class EntityEventsService {
  constructor(
    private readonly db: Database,
    private readonly entities: EntityRepository,
    private readonly changes: EntityChangeRepository,
  ) {}

  primaryKeyOf(entity: string): string {
    return this.entities.catalog.get(entity).primaryKey.name;
  }

  async create(entity: string, body: unknown, context: EntityWriteContext): Promise<EntityWrite> {
    this.entities.catalog.get(entity);
    return this.db.transaction(async (tx) => {
      const request = { key: context.idempotencyKey, method: 'POST', path: `/events/${entity}`, body };
      const { response, replayed } = await withIdempotency(tx, request, async () => {
        const row = await this.entities.insert(tx, entity, body);
        const eventId = await this.record(
          tx,
          entity,
          { operation: 'created', before: null, after: row },
          context,
        );
        return { statusCode: 201, body: row, headers: { 'x-event-id': eventId } };
      });
      return { row: response.body, eventId: response.headers?.['x-event-id'] ?? '', replayed };
    });
  }

  async update(
    entity: string,
    id: string,
    patch: unknown,
    context: EntityWriteContext,
  ): Promise<EntityWrite> {
    return this.db.transaction(async (tx) => {
      // The before-image must be the row the update replaces: locked, so no writer slips in between.
      const before = await this.entities.findById(tx, entity, id, { forUpdate: true });
      const row = await this.entities.update(tx, entity, id, patch, { ifMatch: context.ifMatch });
      const eventId = await this.record(tx, entity, { operation: 'updated', before, after: row }, context);
      return { row, eventId, replayed: false };
    });
  }

  async remove(entity: string, id: string, context: EntityWriteContext): Promise<EntityWrite> {
    return this.db.transaction(async (tx) => {
      const before = await this.entities.delete(tx, entity, id, { ifMatch: context.ifMatch });
      const eventId = await this.record(tx, entity, { operation: 'deleted', before, after: null }, context);
      return { row: null, eventId, replayed: false };
    });
  }

  /**
   * PostgREST's POST (one object or an array, `columns=`, upsert) with one event per row written;
   * an Idempotency-Key covers the whole write, query and resolution included.
   */
  insert(
    entity: string,
    body: unknown,
    query: QueryInput,
    ask: PostgrestAsk,
    context: EntityWriteContext,
  ): Promise<EntityWrites> {
    const { bodies, conflict } = insertRequest(this.entities.catalog.get(entity), body, query, ask);
    const request = {
      key: context.idempotencyKey,
      method: 'POST',
      path: `/events/${entity}`,
      body: { body, query, resolution: ask.prefer.resolution, missing: ask.prefer.missing },
    };
    return this.writeChanges(entity, query, ask, context, request, (tx) =>
      this.changes.insert(tx, entity, bodies, { query, conflict }),
    );
  }

  /** `PATCH /events/:entity?filters`: every matching row changed, each with its event. */
  updateWhere(
    entity: string,
    query: QueryInput,
    patch: unknown,
    ask: PostgrestAsk,
    context: EntityWriteContext,
  ) {
    return this.writeChanges(entity, query, ask, context, undefined, (tx) =>
      this.changes.updateWhere(tx, entity, query, patch),
    );
  }

  /** `DELETE /events/:entity?filters`: every matching row deleted, each with its event. */
  deleteWhere(entity: string, query: QueryInput, ask: PostgrestAsk, context: EntityWriteContext) {
    return this.writeChanges(entity, query, ask, context, undefined, (tx) =>
      this.changes.deleteWhere(tx, entity, query),
    );
  }

  // One transaction: the rows, an event per changed row, the checks of what the request demanded
  // (406, max-affected: a refusal rolls everything back, events included), the idempotency record.
  private writeChanges(
    entity: string,
    query: QueryInput,
    ask: PostgrestAsk,
    context: EntityWriteContext,
    idempotent: IdempotentRequest | undefined,
    write: (tx: Tx) => Promise<RowChange[]>,
  ): Promise<EntityWrites> {
    const project = writeProjection(this.entities.catalog.get(entity), query);
    return this.db.transaction(async (tx) => {
      const { response, replayed } = await withIdempotency(tx, idempotent, async () => {
        const changes = await write(tx);
        checkWritten(changes, ask);
        const eventIds: string[] = [];
        for (const change of changes) eventIds.push(await this.record(tx, entity, change, context));
        const rows = changes.map((change) => project(change.after ?? change.before));
        return { statusCode: 201, body: rows, headers: { 'x-event-id': eventIds.join(', ') } };
      });
      const ids = response.headers?.['x-event-id'] ?? '';
      return { rows: response.body, eventIds: ids === '' ? [] : ids.split(', '), replayed };
    });
  }

  private async record(
    tx: Tx,
    entity: string,
    change: RowChange,
    context: EntityWriteContext,
  ): Promise<string> {
    const { operation, before, after } = change;
    const primaryKey = this.primaryKeyOf(entity);
    const current = (after ?? before) as EntityRow;
    const data: EntityEventData = {
      entity,
      id: String(current[primaryKey]),
      operation,
      before: before && toJson(before),
      after: after && toJson(after),
    };
    const event = await recordOutboxEvent(tx, {
      aggregate: entity,
      type: entityEventType(entity, operation),
      subject: data.id,
      // A delete is one more version of the row: the stream stays ordered by sequence per row.
      sequence: after ? after.version : current.version + 1,
      correlationid: context.correlationId,
      data,
    });
    return event.id;
  }
}

// Rows carry Dates (timestamps); the event carries what the API returns: JSON.
function toJson(row: EntityRow): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row)) as Record<string, unknown>;
}
