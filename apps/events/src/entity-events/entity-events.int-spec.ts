import { INestApplication } from '@nestjs/common';
import path from 'node:path';
import { Pool } from 'pg';
import { EntityCatalog, loadEntities } from '@choreo/entities';
import {
  createOutboxProbeSlot,
  Database,
  dropOutboxProbeSlot,
  peekOutboxMessages,
  syncEntitySchema,
} from '@choreo/persistence';
import type { OutboxMessage } from '@choreo/contracts';
import { JsonCall, jsonClient, useSpecServers } from '@choreo/testing';
import { OrdersModule } from '../orders/orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';
import { EntityEventsModule } from './entity-events.module';
import { createHttpApp } from '@choreo/runtime';

const TOKEN = 'entity-events-spec-token';
const SLOT = 'entity_events_probe';

describe('/events/:entity: row write and event in one transaction (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'entity_events' });
  let pool: Pool;
  let app: INestApplication;
  let base: string;
  let call: JsonCall;
  let catalog: EntityCatalog;

  beforeAll(async () => {
    const url = servers.databaseUrl;
    pool = servers.pool({ max: 2 });
    servers.atStop(async () => {
      await dropOutboxProbeSlot(pool, SLOT).catch(() => undefined);
      await app?.close();
    });
    catalog = loadEntities(path.resolve(__dirname, '../../../../entities'));
    const schemaOwner = new Database({ url });
    await syncEntitySchema(schemaOwner, catalog);
    await schemaOwner.close();
    app = await createHttpApp(
      eventsUnderTest(
        { database: { url, poolMax: 4 }, auth: { tokens: [TOKEN], protectReads: false } },
        OrdersModule.forRoot({
          tracking: { secret: 'entity-events-spec-secret-0123456789abcdef', ttlSeconds: 60 },
        }),
        EntityEventsModule.forRoot({ catalog }),
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    call = jsonClient(base, { authorization: `Bearer ${TOKEN}` });
    await createOutboxProbeSlot(pool, SLOT);
  });

  const eventsOf = async (id: string): Promise<OutboxMessage[]> =>
    (await peekOutboxMessages(pool, SLOT)).filter((m) => m.event.subject === id);

  const pizza = { name: 'quattro formaggi', price: '11.50', category: 'pizza', stock: 7 };

  it('creates, updates and deletes a row, each with its event carrying the row version as sequence', async () => {
    const created = await call('POST', '/events/product', pizza, { 'x-correlation-id': 'corr-entity-1' });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.body).toMatchObject({ ...pizza, version: 1 });
    expect(created.headers.get('x-correlation-id')).toBe('corr-entity-1');
    expect(created.headers.get('location')).toBe(`/crud/product/${id}`);
    expect(created.headers.get('etag')).toBe('"1"');

    const updated = await call('PATCH', `/events/product/${id}`, { stock: 5 }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ stock: 5, version: 2 });

    const deleted = await call('DELETE', `/events/product/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await pool.query('select 1 from product where id = $1', [id])).rowCount).toBe(0);

    const messages = await eventsOf(id);
    expect(messages.map((m) => m.aggregate)).toEqual(['product', 'product', 'product']);
    expect(messages.map((m) => [m.event.type, m.event.sequence, m.event.id])).toEqual([
      ['product.created', 1, created.headers.get('x-event-id')],
      ['product.updated', 2, updated.headers.get('x-event-id')],
      ['product.deleted', 3, deleted.headers.get('x-event-id')],
    ]);
    expect(messages[0].event).toMatchObject({
      correlationid: 'corr-entity-1',
      source: 'events',
      data: {
        entity: 'product',
        id,
        operation: 'created',
        before: null,
        after: { ...pizza, id, version: 1 },
      },
    });
    expect(messages[1].event.data).toMatchObject({
      before: { stock: 7, version: 1 },
      after: { stock: 5, version: 2 },
    });
    expect(messages[2].event.data).toMatchObject({ operation: 'deleted', before: { stock: 5 }, after: null });
  });

  it('refuses what /crud refuses, with the same errors, and records nothing', async () => {
    const before = (await peekOutboxMessages(pool, SLOT)).length;
    const invalid = await call('POST', '/events/product', {
      name: '',
      price: 'cheap',
      stock: -1,
      colour: 'red',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body['error']).toBe('validation_failed');
    expect((invalid.body['issues'] as { field: string }[]).map((i) => i.field).sort()).toEqual(
      ['colour', 'name', 'price', 'stock'].sort(),
    );
    expect((await call('POST', '/events/unicorn', {})).body).toMatchObject({ error: 'unknown_entity' });

    const id = (await call('POST', '/events/product', pizza)).body['id'] as string;
    const stale = await call('PATCH', `/events/product/${id}`, { stock: 1 }, { 'if-match': '"9"' });
    expect(stale.status).toBe(412);
    expect((await call('PATCH', `/events/product/${id}`, { stock: 'many' })).status).toBe(400);
    expect((await call('DELETE', '/events/product/0190f6a4-7c1e-7000-8000-000000000999')).status).toBe(404);
    expect((await pool.query('select stock, version from product where id = $1', [id])).rows[0]).toEqual({
      stock: 7,
      version: 1,
    });
    const recorded = (await peekOutboxMessages(pool, SLOT)).slice(before);
    expect(recorded.map((m) => m.event.type)).toEqual(['product.created']);
  });

  it('replays a POST with the same Idempotency-Key and body, and refuses another body with 422', async () => {
    const headers = { 'idempotency-key': 'entity-key-1' };
    const first = await call('POST', '/events/hello', { world: 'earth' }, headers);
    const again = await call('POST', '/events/hello', { world: 'earth' }, headers);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-event-id')).toBe(first.headers.get('x-event-id'));
    expect((await pool.query('select count(*)::int as n from hello')).rows[0].n).toBe(1);
    expect(await eventsOf(String(first.body['id']))).toHaveLength(1);

    const other = await call('POST', '/events/hello', { world: 'mars' }, headers);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: 'idempotency_key_reused' });
    // The same key on another route is another request too.
    expect((await call('POST', '/events/product', pizza, headers)).status).toBe(422);
  });

  it('needs a bearer token and describes its write routes in the OpenAPI document', async () => {
    const anonymous = await fetch(`${base}/events/product`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(pizza),
    });
    expect(anonymous.status).toBe(401);
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(document.paths['/events/product']).sort()).toEqual(['delete', 'patch', 'post']);
    expect(Object.keys(document.paths['/events/product/{id}']).sort()).toEqual(['delete', 'patch']);
    expect(document.paths['/orders']).toBeDefined();
  });
});
