import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { PostgrestClient } from '@supabase/postgrest-js';
import type { Pool } from 'pg';
import type { OutboxMessage } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import {
  Database,
  createOutboxProbeSlot,
  dropOutboxProbeSlot,
  peekOutboxMessages,
  syncEntitySchema,
} from '@choreo/persistence';
import { runApp } from '@choreo/runtime';
import { useSpecServers } from '@choreo/testing';
import { eventsUnderTest } from '../test-fixtures/events-under-test';
import { EntityEventsModule } from './entity-events.module';

const TOKEN = 'events-postgrest-token-0123456789';
const SLOT = 'events_postgrest_probe';
const ITEM = `
name: item
fields:
  sku: { type: text, required: true, unique: true }
  name: { type: text }
  qty: { type: integer, required: true, default: 0 }
`;

// The real @supabase/postgrest-js client pointed at /events: the writes a PostgREST user makes,
// each answered in PostgREST's shapes and each changed row recorded as its event in the same
// transaction (read back from the WAL through a probe slot).
describe('PostgREST writes on /events: @supabase/postgrest-js, one event per changed row', () => {
  const servers = useSpecServers({ postgres: true, database: 'events_postgrest' });
  let pool: Pool;
  let base: string;
  let client: PostgrestClient;
  const item = () => client.from('item');
  let mark = 0;

  beforeAll(async () => {
    pool = servers.pool({ max: 2 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'events-postgrest-entities-'));
    writeFileSync(path.join(dir, 'item.yaml'), ITEM);
    const catalog = loadEntities(dir);
    const schemaOwner = new Database({ url: servers.databaseUrl });
    await syncEntitySchema(schemaOwner, catalog);
    await schemaOwner.close();
    const app: INestApplication = await runApp({
      app: 'events',
      module: eventsUnderTest(
        {
          database: { url: servers.databaseUrl, poolMax: 4 },
          auth: { tokens: [TOKEN], protectReads: false },
        },
        EntityEventsModule.forRoot({ catalog }),
      ),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 65536, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(async () => {
      await dropOutboxProbeSlot(pool, SLOT).catch(() => undefined);
      await app.close();
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    client = new PostgrestClient(`${base}/events`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    await createOutboxProbeSlot(pool, SLOT);
  });

  beforeEach(async () => {
    await pool.query('delete from item');
    await pool.query(
      `insert into item (id, sku, name, qty) values
        ('0190f6a4-7c1e-7000-8000-00000000000a', 'A-1', 'alpha', 1),
        ('0190f6a4-7c1e-7000-8000-00000000000b', 'B-2', 'beta', 5),
        ('0190f6a4-7c1e-7000-8000-00000000000c', 'C-3', 'gamma', 9)`,
    );
    mark = (await peekOutboxMessages(pool, SLOT)).length;
  });

  /** The events recorded since the test began, as [type, sku before, sku after]. */
  const recorded = async (): Promise<OutboxMessage[]> => (await peekOutboxMessages(pool, SLOT)).slice(mark);
  const summary = (messages: OutboxMessage[]) =>
    messages.map((m) => {
      const data = m.event.data as {
        before: { sku: string; qty: number } | null;
        after: { sku: string; qty: number } | null;
      };
      return [
        m.event.type,
        data.before && `${data.before.sku}:${data.before.qty}`,
        data.after && `${data.after.sku}:${data.after.qty}`,
      ];
    });
  const count = async () =>
    (await pool.query<{ n: number }>('select count(*)::int as n from item')).rows[0].n;

  it('insert one with select() returns an array; with single() the object; each row its event', async () => {
    const inserted = await item().insert({ sku: 'E-5', qty: 3 }).select();
    expect(inserted.status).toBe(201);
    expect(inserted.data).toEqual([expect.objectContaining({ sku: 'E-5', qty: 3, version: 1 })]);
    const single = await item().insert({ sku: 'F-6' }).select('sku, qty').single();
    expect(single.data).toEqual({ sku: 'F-6', qty: 0 });
    expect(summary(await recorded())).toEqual([
      ['item.created', null, 'E-5:3'],
      ['item.created', null, 'F-6:0'],
    ]);
  });

  it('bulk insert answers the rows as select names them, and insert without select no body', async () => {
    const bulk = await item()
      .insert([
        { sku: 'G-7', qty: 1 },
        { sku: 'H-8', qty: 2, name: 'h' },
      ])
      .select('code:sku,name');
    expect(bulk.data).toEqual([
      { code: 'G-7', name: null },
      { code: 'H-8', name: 'h' },
    ]);
    const bare = await item().insert([{ sku: 'I-9' }]);
    expect(bare).toMatchObject({ status: 201, data: null, error: null });
    expect(await count()).toBe(6);
    expect(summary(await recorded())).toEqual([
      ['item.created', null, 'G-7:1'],
      ['item.created', null, 'H-8:2'],
      ['item.created', null, 'I-9:0'],
    ]);
  });

  it('a refused bulk insert names the row and field, writes nothing and records nothing', async () => {
    const refused = await item().insert([{ sku: 'J-1' }, { sku: 'K-2', qty: 'many' }]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.error)).toContain('[1].qty');
    const duplicate = await item().insert([{ sku: 'J-1' }, { sku: 'A-1' }]);
    expect(duplicate.status).toBe(409);
    expect(await count()).toBe(3);
    expect(await recorded()).toEqual([]);
  });

  it('upsert merges duplicates on on_conflict: an update event with the row before, its id kept', async () => {
    const merged = await item()
      .upsert(
        [
          { sku: 'A-1', qty: 100 },
          { sku: 'Z-9', qty: 1 },
        ],
        { onConflict: 'sku' },
      )
      .select('id,sku,qty,version');
    expect(merged.error).toBeNull();
    expect(merged.data).toEqual([
      { id: '0190f6a4-7c1e-7000-8000-00000000000a', sku: 'A-1', qty: 100, version: 2 },
      { id: expect.any(String), sku: 'Z-9', qty: 1, version: 1 },
    ]);
    const messages = await recorded();
    expect(summary(messages)).toEqual([
      ['item.updated', 'A-1:1', 'A-1:100'],
      ['item.created', null, 'Z-9:1'],
    ]);
    expect(messages.map((m) => m.event.sequence)).toEqual([2, 1]);
  });

  it('upsert with ignoreDuplicates skips the conflicting rows and records only what it wrote', async () => {
    const ignored = await item()
      .upsert([{ sku: 'A-1', qty: 100 }, { sku: 'Y-8' }], {
        onConflict: 'sku',
        ignoreDuplicates: true,
        defaultToNull: false,
      })
      .select('sku,qty');
    expect(ignored.data).toEqual([{ sku: 'Y-8', qty: 0 }]);
    expect(summary(await recorded())).toEqual([['item.created', null, 'Y-8:0']]);
  });

  it('update by filter answers the changed rows; each has its event with before and after', async () => {
    const updated = await item().update({ qty: 7 }).gt('qty', 2).select('sku,qty,version');
    expect(updated.status).toBe(200);
    expect(updated.data).toEqual([
      { sku: 'B-2', qty: 7, version: 2 },
      { sku: 'C-3', qty: 7, version: 2 },
    ]);
    const bare = await item().update({ qty: 0 }).eq('sku', 'A-1');
    expect(bare).toMatchObject({ status: 204, error: null });
    expect(summary(await recorded())).toEqual([
      ['item.updated', 'B-2:5', 'B-2:7'],
      ['item.updated', 'C-3:9', 'C-3:7'],
      ['item.updated', 'A-1:1', 'A-1:0'],
    ]);
  });

  it('update and delete without a filter are refused, change nothing and record nothing', async () => {
    const update = await item().update({ name: 'everything' });
    expect(update.status).toBe(400);
    expect(update.error?.message).toContain('needs at least one filter');
    expect((await item().delete()).status).toBe(400);
    expect(await count()).toBe(3);
    expect(await recorded()).toEqual([]);
  });

  it('delete by filter answers the removed rows; single() on more than one rolls back, events too', async () => {
    const removed = await item().delete().eq('sku', 'B-2').select('sku');
    expect(removed.data).toEqual([{ sku: 'B-2' }]);
    const many = await item().delete().gt('qty', 0).select().single();
    expect(many.status).toBe(406);
    const strict = await fetch(`${base}/events/item?qty=gt.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}`, prefer: 'handling=strict, max-affected=1' },
    });
    expect(strict.status).toBe(400);
    expect(await count()).toBe(2);
    expect(summary(await recorded())).toEqual([['item.deleted', 'B-2:5', null]]);
  });

  it('names every event in X-Event-ID, answers Prefer: return=headers-only with no body, replays a key', async () => {
    const post = (prefer: string, key?: string) =>
      fetch(`${base}/events/item?columns=sku,qty`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          prefer,
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify([
          { sku: 'M-1', qty: 1 },
          { sku: 'M-2', qty: 2 },
        ]),
      });
    const first = await post('return=headers-only', 'bulk-key-1');
    expect(first.status).toBe(201);
    expect(await first.text()).toBe('');
    expect(first.headers.get('content-range')).toBe('0-1/*');
    const again = await post('return=representation', 'bulk-key-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-event-id')).toBe(first.headers.get('x-event-id'));
    expect(((await again.json()) as { sku: string }[]).map((r) => r.sku)).toEqual(['M-1', 'M-2']);
    const messages = await recorded();
    expect(messages.map((m) => m.event.id).join(', ')).toBe(first.headers.get('x-event-id'));
    expect(summary(messages)).toEqual([
      ['item.created', null, 'M-1:1'],
      ['item.created', null, 'M-2:2'],
    ]);
  });
});
