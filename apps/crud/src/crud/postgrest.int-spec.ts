import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { PostgrestClient } from '@supabase/postgrest-js';
import { Client } from 'pg';
import { runApp } from '@choreo/runtime';
import { PostgresServer, startPostgres } from '@choreo/testing';
import { CrudModule } from './crud.module';

const TOKEN = 'postgrest-test-token-0123456789';

const ITEM = `
name: item
fields:
  sku: { type: text, required: true, unique: true }
  name: { type: text }
  qty: { type: integer, required: true, default: 0 }
  attrs: { type: jsonb }
  active: { type: boolean }
  colour: { type: enum, values: [red, green, blue] }
`;

interface Item {
  id: string;
  sku: string;
  name: string | null;
  qty: number;
  version: number;
}

// The real @supabase/postgrest-js client, pointed at /crud, driving every operation a PostgREST user
// writes: each `it` is one of them, asserted on what the client hands back and on the table.
describe('PostgREST compatibility: @supabase/postgrest-js against /crud (real PostgreSQL)', () => {
  let pg: PostgresServer;
  let app: INestApplication;
  let base: string;
  let sql: Client;
  let client: PostgrestClient;
  const item = () => client.from('item');

  beforeAll(async () => {
    pg = await startPostgres({ fsync: false });
    const url = await pg.createDatabase('postgrest');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postgrest-entities-'));
    writeFileSync(path.join(dir, 'item.yaml'), ITEM);
    app = await runApp({
      app: 'crud',
      module: CrudModule.forRoot({
        entitiesDir: dir,
        database: { url, poolMax: 5 },
        auth: { tokens: [TOKEN], protectReads: false },
        limits: { defaultLimit: 100, maxLimit: 1000 },
      }),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 65536, corsOrigins: [] },
      log: { level: 'silent' },
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    client = new PostgrestClient(`${base}/crud`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    sql = new Client({ connectionString: url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await pg?.stop();
  });

  beforeEach(async () => {
    await sql.query('delete from item');
    const seed = [
      { sku: 'A-1', name: 'alpha', qty: 1, attrs: { tags: ['x'] }, active: true, colour: 'red' },
      { sku: 'B-2', name: 'beta', qty: 5, attrs: { tags: ['y'] }, active: false, colour: 'green' },
      { sku: 'C-3', name: 'gamma ray', qty: 9, attrs: null, active: null, colour: 'blue' },
      { sku: 'D-4', name: null, qty: 12, attrs: { tags: ['x', 'y'] }, active: true, colour: null },
    ];
    const { error } = await item().insert(seed);
    expect(error).toBeNull();
  });

  const skus = (data: unknown) => (data as Item[]).map((r) => r.sku).sort();
  const count = async () => Number((await sql.query('select count(*) as n from item')).rows[0].n);

  it('select(*) returns every row and column', async () => {
    const { data, error, status } = await item().select('*');
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(skus(data)).toEqual(['A-1', 'B-2', 'C-3', 'D-4']);
    expect(Object.keys((data as Item[])[0]).sort()).toEqual(
      ['active', 'attrs', 'colour', 'created_at', 'id', 'name', 'qty', 'sku', 'updated_at', 'version'].sort(),
    );
  });

  it('select with a column list and renames', async () => {
    const { data } = await item().select('sku, label:name').eq('sku', 'A-1');
    expect(data).toEqual([{ sku: 'A-1', label: 'alpha' }]);
  });

  it('eq, neq, gt, gte, lt, lte', async () => {
    expect(skus((await item().select().eq('qty', 5)).data)).toEqual(['B-2']);
    expect(skus((await item().select().neq('qty', 5)).data)).toEqual(['A-1', 'C-3', 'D-4']);
    expect(skus((await item().select().gt('qty', 5)).data)).toEqual(['C-3', 'D-4']);
    expect(skus((await item().select().gte('qty', 5).lte('qty', 9)).data)).toEqual(['B-2', 'C-3']);
    expect(skus((await item().select().lt('qty', 5)).data)).toEqual(['A-1']);
  });

  it('like, ilike and their any/all forms', async () => {
    expect(skus((await item().select().like('name', '%eta')).data)).toEqual(['B-2']);
    expect(skus((await item().select().ilike('name', 'GAMMA*')).data)).toEqual(['C-3']);
    expect(skus((await item().select().likeAnyOf('name', ['al%', 'be%'])).data)).toEqual(['A-1', 'B-2']);
    expect(skus((await item().select().ilikeAllOf('name', ['%A%', '%RAY'])).data)).toEqual(['C-3']);
  });

  it('regexMatch and regexIMatch; a bad regular expression is a 400', async () => {
    expect(skus((await item().select().regexMatch('name', '^(al|be)')).data)).toEqual(['A-1', 'B-2']);
    expect(skus((await item().select().regexIMatch('name', '^GAM')).data)).toEqual(['C-3']);
    const bad = await item().select().regexMatch('name', '(');
    expect(bad.status).toBe(400);
  });

  it('in, is null, not, isDistinct', async () => {
    expect(skus((await item().select().in('sku', ['A-1', 'D-4'])).data)).toEqual(['A-1', 'D-4']);
    expect(skus((await item().select().is('name', null)).data)).toEqual(['D-4']);
    expect(skus((await item().select().not('name', 'is', null)).data)).toEqual(['A-1', 'B-2', 'C-3']);
    expect(skus((await item().select().not('qty', 'in', '(1,5)')).data)).toEqual(['C-3', 'D-4']);
    expect(skus((await item().select().isDistinct('active', true)).data)).toEqual(['B-2', 'C-3']);
    expect(skus((await item().select().is('active', false)).data)).toEqual(['B-2']);
  });

  it('or, nested and, and filter()/match()', async () => {
    expect(skus((await item().select().or('qty.gt.10,name.eq.alpha')).data)).toEqual(['A-1', 'D-4']);
    expect(skus((await item().select().or('sku.eq.A-1,and(qty.gte.5,qty.lte.9)')).data)).toEqual([
      'A-1',
      'B-2',
      'C-3',
    ]);
    expect(skus((await item().select().or('name.eq."gamma ray",qty.eq.1')).data)).toEqual(['A-1', 'C-3']);
    expect(skus((await item().select().filter('qty', 'in', '(1,12)')).data)).toEqual(['A-1', 'D-4']);
    expect(skus((await item().select().match({ qty: 5, name: 'beta' })).data)).toEqual(['B-2']);
  });

  it('contains and containedBy on jsonb, textSearch on text', async () => {
    expect(
      skus(
        (
          await item()
            .select()
            .contains('attrs', { tags: ['y'] })
        ).data,
      ),
    ).toEqual(['B-2', 'D-4']);
    expect(
      skus(
        (
          await item()
            .select()
            .containedBy('attrs', { tags: ['x', 'y'] })
        ).data,
      ),
    ).toEqual(['A-1', 'B-2', 'D-4']);
    expect(skus((await item().select().textSearch('name', 'ray', { config: 'english' })).data)).toEqual([
      'C-3',
    ]);
    expect(skus((await item().select().textSearch('name', 'gamma ray', { type: 'websearch' })).data)).toEqual(
      ['C-3'],
    );
  });

  it('order, limit and range()', async () => {
    const ordered = await item().select('sku').order('qty', { ascending: false }).limit(2);
    expect(ordered.data).toEqual([{ sku: 'D-4' }, { sku: 'C-3' }]);
    const nullsFirst = await item().select('sku').order('name', { nullsFirst: true }).limit(1);
    expect(nullsFirst.data).toEqual([{ sku: 'D-4' }]);
    const range = await item().select('sku').order('sku').range(1, 2);
    expect(range.data).toEqual([{ sku: 'B-2' }, { sku: 'C-3' }]);
  });

  it('count=exact with Content-Range, and head (HEAD) for the count alone', async () => {
    const page = await item().select('sku', { count: 'exact' }).order('sku').range(0, 1);
    expect(page.count).toBe(4);
    expect(page.status).toBe(206);
    const head = await item().select('*', { count: 'exact', head: true }).gt('qty', 4);
    expect(head).toMatchObject({ count: 3, data: null, error: null });
  });

  it('count=planned and count=estimated', async () => {
    const planned = await item().select('sku', { count: 'planned' });
    expect(typeof planned.count).toBe('number');
    const estimated = await item().select('sku', { count: 'estimated' });
    expect(estimated.count).toBe(4);
  });

  it('single() returns one object, and a 406 when not exactly one row', async () => {
    const one = await item().select('sku').eq('sku', 'B-2').single();
    expect(one.data).toEqual({ sku: 'B-2' });
    const many = await item().select('sku').gt('qty', 1).single();
    expect(many.status).toBe(406);
    expect(many.data).toBeNull();
    const none = await item().select('sku').eq('sku', 'nope').maybeSingle();
    expect(none).toMatchObject({ data: null, error: null });
  });

  it('insert one with select() returns an array; with single() the object', async () => {
    const inserted = await item().insert({ sku: 'E-5', qty: 3 }).select();
    expect(inserted.status).toBe(201);
    expect(inserted.data).toEqual([expect.objectContaining({ sku: 'E-5', qty: 3, version: 1 })]);
    const single = await item().insert({ sku: 'F-6' }).select('sku, qty').single();
    expect(single.data).toEqual({ sku: 'F-6', qty: 0 });
  });

  it('bulk insert, and insert without select answers no body', async () => {
    const bulk = await item()
      .insert([
        { sku: 'G-7', qty: 1 },
        { sku: 'H-8', qty: 2, name: 'h' },
      ])
      .select('sku,name');
    expect(bulk.data).toEqual([
      { sku: 'G-7', name: null },
      { sku: 'H-8', name: 'h' },
    ]);
    const bare = await item().insert([{ sku: 'I-9' }]);
    expect(bare).toMatchObject({ status: 201, data: null, error: null });
    expect(await count()).toBe(7);
  });

  it('a refused bulk insert names the row and field and writes nothing', async () => {
    const refused = await item().insert([{ sku: 'J-1' }, { sku: 'K-2', qty: 'many' }]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.error)).toContain('[1].qty');
    expect(await count()).toBe(4);
  });

  it('upsert merges duplicates on on_conflict, bumping the version', async () => {
    const merged = await item()
      .upsert(
        [
          { sku: 'A-1', qty: 100 },
          { sku: 'Z-9', qty: 1 },
        ],
        { onConflict: 'sku' },
      )
      .select('sku,qty,version');
    expect(merged.error).toBeNull();
    expect(merged.data).toEqual([
      { sku: 'A-1', qty: 100, version: 2 },
      { sku: 'Z-9', qty: 1, version: 1 },
    ]);
    const row = await sql.query(`select name, qty from item where sku = 'A-1'`);
    expect(row.rows[0]).toEqual({ name: 'alpha', qty: 100 });
  });

  it('upsert with ignoreDuplicates skips the conflicting rows', async () => {
    const ignored = await item()
      .upsert([{ sku: 'A-1', qty: 100 }, { sku: 'Y-8' }], {
        onConflict: 'sku',
        ignoreDuplicates: true,
        defaultToNull: false, // Prefer: missing=default: Y-8's qty takes its default, not null
      })
      .select('sku,qty');
    expect(ignored.data).toEqual([{ sku: 'Y-8', qty: 0 }]);
    expect((await sql.query(`select qty from item where sku = 'A-1'`)).rows[0].qty).toBe(1);
    const badTarget = await item().upsert({ sku: 'A-1' }, { onConflict: 'name' });
    expect(badTarget.status).toBe(400);
  });

  it('update by filter with select() returns the changed rows', async () => {
    const updated = await item().update({ name: 'big' }).gt('qty', 8).select('sku,name,version');
    expect(updated.status).toBe(200);
    expect(updated.data).toEqual(
      expect.arrayContaining([
        { sku: 'C-3', name: 'big', version: 2 },
        { sku: 'D-4', name: 'big', version: 2 },
      ]),
    );
    const bare = await item().update({ qty: 0 }).eq('sku', 'A-1');
    expect(bare).toMatchObject({ status: 204, error: null });
  });

  it('update and delete without a filter are refused and change nothing', async () => {
    const update = await item().update({ name: 'everything' });
    expect(update.status).toBe(400);
    expect(update.error?.message).toContain('needs at least one filter');
    const remove = await item().delete();
    expect(remove.status).toBe(400);
    expect(await count()).toBe(4);
    expect((await sql.query(`select count(*)::int as n from item where name = 'everything'`)).rows[0].n).toBe(
      0,
    );
  });

  it('delete by filter with select() returns the removed rows; single() rolls back on more than one', async () => {
    const removed = await item().delete().eq('sku', 'B-2').select('sku');
    expect(removed.data).toEqual([{ sku: 'B-2' }]);
    const many = await item().delete().gt('qty', 0).select().single();
    expect(many.status).toBe(406);
    expect(await count()).toBe(3);
  });

  it('csv() is answered 406 saying what choreo serves', async () => {
    const csv = await item().select().csv();
    expect(csv.status).toBe(406);
    expect(csv.error?.message).toContain('application/json');
  });

  it('Range and Range-Unit headers page like PostgREST, with Content-Range', async () => {
    const response = await fetch(`${base}/crud/item?select=sku&order=sku`, {
      headers: { Range: '1-2', 'Range-Unit': 'items', Prefer: 'count=exact' },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('1-2/4');
    expect(await response.json()).toEqual([{ sku: 'B-2' }, { sku: 'C-3' }]);
    const past = await fetch(`${base}/crud/item?offset=10`, { headers: { Prefer: 'count=exact' } });
    expect(past.status).toBe(416);
  });

  it('a NUL in a filter or a body is a 400 naming it; a lone backslash LIKE pattern too', async () => {
    const filter = await item().select().eq('name', 'a\u0000b');
    expect(filter.status).toBe(400);
    expect(JSON.stringify(filter.error)).toContain('NUL');
    const body = await item().insert({ sku: 'N\u0000UL' });
    expect(body.status).toBe(400);
    const like = await item().select().like('name', 'abc\\');
    expect(like.status).toBe(400);
    expect(await count()).toBe(4);
  });
});
