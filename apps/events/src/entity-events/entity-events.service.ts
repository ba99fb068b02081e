import { Injectable } from '@nestjs/common';
import { EntityEventData, entityEventType, EntityOperation } from '@choreo/contracts';
import {
  Database,
  EntityRepository,
  EntityRow,
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
        const eventId = await this.record(tx, entity, 'created', null, row, context);
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
      const eventId = await this.record(tx, entity, 'updated', before, row, context);
      return { row, eventId, replayed: false };
    });
  }

  async remove(entity: string, id: string, context: EntityWriteContext): Promise<EntityWrite> {
    return this.db.transaction(async (tx) => {
      const before = await this.entities.delete(tx, entity, id, { ifMatch: context.ifMatch });
      const eventId = await this.record(tx, entity, 'deleted', before, null, context);
      return { row: null, eventId, replayed: false };
    });
  }

  private async record(
    tx: Tx,
    entity: string,
    operation: EntityOperation,
    before: EntityRow | null,
    after: EntityRow | null,
    context: EntityWriteContext,
  ): Promise<string> {
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
