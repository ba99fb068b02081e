import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { EntityDefinitionError } from '@choreo/entities';
import { runApp } from '@choreo/runtime';
import { useSpecServers } from '@choreo/testing';
import { CrudModule } from './crud.module';

const TOKEN = 'crud-test-token-0123456789';
const repoEntities = path.resolve(__dirname, '../../../../entities');

// Every field type and constraint, beside the shipped product and hello.
const GADGET = `
name: gadget
description: every type there is
fields:
  sku: { type: text, required: true, unique: true, pattern: '[A-Z]{3}-\\d+' }
  label: { type: text }
  count: { type: integer, min: 0 }
  big: { type: bigint }
  amount: { type: decimal, precision: 10, scale: 3 }
  active: { type: boolean, default: true }
  seen_at: { type: timestamp }
  born_on: { type: date }
  attrs: { type: jsonb }
  colour: { type: enum, values: [red, green, blue] }
  owner: { type: uuid }
indexes:
  - { fields: [attrs], type: gin }
queries:
  sneaky_delete:
    description: a definition bug the read-only transaction must stop
    sql: with gone as (delete from gadget returning *) select count(*) as n from gone
`;

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

describe('crud app /crud/:entity (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'crud' });
  let app: INestApplication;
  let base: string;
  let sql: Client;

  async function call(
    method: string,
    url: string,
    options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${base}${url}`, { method, headers, body: payload });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON (the Swagger UI page)
    }
    return { status: response.status, headers: response.headers, body };
  }

  const create = async (entity: string, body: unknown) => {
    const reply = await call('POST', `/crud/${entity}`, { body });
    expect(reply.status).toBe(201);
    return reply.body as Record<string, unknown> & { id: string; version: number };
  };
  const ids = (reply: Reply) => (reply.body as { id: string }[]).map((r) => r.id);
  const issues = (reply: Reply) =>
    (reply.body as { issues: { field: string; message: string }[] }).issues.map((i) => i.field);
  const count = async (table: string) =>
    Number((await sql.query(`select count(*)::int as n from ${table}`)).rows[0].n);

  beforeAll(async () => {
    const url = servers.databaseUrl;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'crud-entities-'));
    copyFileSync(path.join(repoEntities, 'product.yaml'), path.join(dir, 'product.yaml'));
    copyFileSync(path.join(repoEntities, 'hello.yaml'), path.join(dir, 'hello.yaml'));
    writeFileSync(path.join(dir, 'gadget.yaml'), GADGET);
    app = await runApp({
      app: 'crud',
      module: CrudModule.forRoot({
        entitiesDir: dir,
        database: { url, poolMax: 10 },
        auth: { tokens: [TOKEN, 'another-token-0123456789'], protectReads: false },
        limits: { defaultLimit: 3, maxLimit: 5 },
      }),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 4096, corsOrigins: ['http://allowed.example'] },
      log: { level: 'silent' },
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    sql = new Client({ connectionString: url });
    await sql.connect();
  });

  servers.atStop(async () => {
    await sql?.end();
    await app?.close();
  });

  describe('tables', () => {
    it('creates one table per entity with REPLICA IDENTITY FULL and the declared indexes', async () => {
      const { rows } = await sql.query(
        `select relname, relreplident from pg_class where relname in ('product', 'hello', 'gadget') order by relname`,
      );
      expect(rows).toEqual([
        { relname: 'gadget', relreplident: 'f' },
        { relname: 'hello', relreplident: 'f' },
        { relname: 'product', relreplident: 'f' },
      ]);
      const indexes = await sql.query(
        `select indexname from pg_indexes where tablename = 'product' order by 1`,
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['product_category_idx', 'product_pkey']);
    });
  });

  describe('create and read', () => {
    it('POST answers 201 with Location and ETag; GET returns the row with the same ETag', async () => {
      const reply = await call('POST', '/crud/product', {
        body: { name: 'Widget', price: 9.99, category: 'tools' },
      });
      expect(reply.status).toBe(201);
      const row = reply.body as Record<string, unknown>;
      expect(row).toMatchObject({ name: 'Widget', price: '9.99', category: 'tools', stock: 0, version: 1 });
      expect(reply.headers.get('location')).toBe(`/crud/product/${String(row.id)}`);
      expect(reply.headers.get('etag')).toBe('"1"');

      const read = await call('GET', reply.headers.get('location')!);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(row);
      expect(read.headers.get('etag')).toBe('"1"');
      // Through node:http: fetch adds Cache-Control: no-cache to conditional requests.
      const unchanged = await new Promise<number>((resolve, reject) =>
        http
          .get(`${base}${reply.headers.get('location')!}`, { headers: { 'if-none-match': '"1"' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      );
      expect(unchanged).toBe(304);
    });

    it('POST of an array creates every row in one transaction, or none when one is invalid', async () => {
      const before = await count('hello');
      const ok = await call('POST', '/crud/hello', { body: [{ world: 'a' }, { world: 'b' }, {}] });
      expect(ok.status).toBe(201);
      expect((ok.body as { world: string | null }[]).map((r) => r.world)).toEqual(['a', 'b', null]);
      expect(await count('hello')).toBe(before + 3);

      const bad = await call('POST', '/crud/product', {
        body: [{ name: 'fine', price: 1 }, { name: 'bad', price: -1 }, { price: 'x' }],
      });
      expect(bad.status).toBe(400);
      expect(issues(bad)).toEqual(['[1].price', '[2].name', '[2].price']);
      expect((await sql.query(`select 1 from product where name = 'fine'`)).rowCount).toBe(0);
    });

    it('round-trips every field type', async () => {
      const owner = '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d';
      const row = await create('gadget', {
        sku: 'ABC-1',
        label: 'everything',
        count: 3,
        big: '9007199254740993',
        amount: '1234.567',
        seen_at: '2026-01-31T12:00:00.000Z',
        born_on: '2026-01-31',
        attrs: { size: 'L', tags: ['x', 'y'] },
        colour: 'green',
        owner,
      });
      expect(row).toMatchObject({
        sku: 'ABC-1',
        count: 3,
        big: '9007199254740993',
        amount: '1234.567',
        active: true,
        seen_at: '2026-01-31T12:00:00.000Z',
        born_on: '2026-01-31',
        attrs: { size: 'L', tags: ['x', 'y'] },
        colour: 'green',
        owner,
      });
      expect((await call('GET', `/crud/gadget?attrs=eq.{"size":"L","tags":["x","y"]}`)).body).toHaveLength(1);
    });

    it('answers 400 naming each bad field', async () => {
      const reply = await call('POST', '/crud/gadget', {
        body: {
          sku: 'lower-1',
          count: -1,
          big: 'lots',
          amount: 1.2345,
          active: 'yes',
          seen_at: 'yesterday',
          born_on: '2026-13-45',
          colour: 'purple',
          owner: 'nobody',
          shape: 'round',
          version: 7,
        },
      });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, error: 'validation_failed' });
      expect(issues(reply).sort()).toEqual(
        [
          'active',
          'amount',
          'big',
          'born_on',
          'colour',
          'count',
          'owner',
          'seen_at',
          'shape',
          'sku',
          'version',
        ].sort(),
      );
      const missing = await call('POST', '/crud/product', { body: { category: 'x' } });
      expect((missing.body as { issues: unknown[] }).issues).toEqual(
        expect.arrayContaining([
          { field: 'name', message: 'is required' },
          { field: 'price', message: 'is required' },
        ]),
      );
    });

    it('answers 404 for an unknown entity or id, 400 for a malformed id', async () => {
      expect((await call('GET', '/crud/nothing')).status).toBe(404);
      expect((await call('GET', '/crud/nothing/1')).body).toMatchObject({ error: 'unknown_entity' });
      expect((await call('POST', '/crud/nothing', { body: {} })).status).toBe(404);
      expect((await call('GET', '/crud/product/0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d')).body).toMatchObject({
        statusCode: 404,
        error: 'not_found',
      });
      const malformed = await call('GET', '/crud/product/42');
      expect(malformed.status).toBe(400);
      expect(issues(malformed)).toEqual(['id']);
    });

    it('answers 409 naming the field on a unique violation', async () => {
      await create('gadget', { sku: 'DUP-1' });
      const reply = await call('POST', '/crud/gadget', { body: { sku: 'DUP-1' } });
      expect(reply.status).toBe(409);
      expect(reply.body).toMatchObject({ error: 'unique_violation', field: 'sku' });
      const other = await create('gadget', { sku: 'DUP-2' });
      const patch = await call('PATCH', `/crud/gadget/${other.id}`, { body: { sku: 'DUP-1' } });
      expect(patch.status).toBe(409);
      expect(patch.body).toMatchObject({ field: 'sku' });
    });
  });

  describe('update and delete', () => {
    it('PATCH changes only the given fields and bumps version, updated_at and the ETag', async () => {
      const row = await create('product', { name: 'Lamp', price: '20.00', category: 'home', stock: 4 });
      const reply = await call('PATCH', `/crud/product/${row.id}`, { body: { stock: 3 } });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        name: 'Lamp',
        price: '20.00',
        category: 'home',
        stock: 3,
        version: 2,
      });
      expect(reply.headers.get('etag')).toBe('"2"');
      const updated = reply.body as { created_at: string; updated_at: string };
      expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(updated.created_at));

      const nulled = await call('PATCH', `/crud/product/${row.id}`, { body: { category: null } });
      expect(nulled.body).toMatchObject({ category: null, version: 3 });
      const invalid = await call('PATCH', `/crud/product/${row.id}`, {
        body: { name: null, id: row.id, created_at: 'now', stock: -1 },
      });
      expect(invalid.status).toBe(400);
      expect(issues(invalid).sort()).toEqual(['created_at', 'id', 'name', 'stock']);
      expect(
        (await call('PATCH', `/crud/product/0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d`, { body: { stock: 1 } }))
          .status,
      ).toBe(404);
    });

    it('PATCH with a stale If-Match answers 412 and changes nothing', async () => {
      const row = await create('product', { name: 'Chair', price: 50 });
      expect(
        (
          await call('PATCH', `/crud/product/${row.id}`, {
            body: { stock: 1 },
            headers: { 'if-match': '"1"' },
          })
        ).status,
      ).toBe(200);
      const stale = await call('PATCH', `/crud/product/${row.id}`, {
        body: { stock: 9 },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ error: 'precondition_failed' });
      expect(
        (
          await call('PATCH', `/crud/product/${row.id}`, {
            body: { stock: 9 },
            headers: { 'if-match': 'garbage' },
          })
        ).status,
      ).toBe(412);
      expect((await call('GET', `/crud/product/${row.id}`)).body).toMatchObject({ stock: 1, version: 2 });
    });

    it('of concurrent PATCHes holding the same If-Match exactly one wins', async () => {
      const row = await create('product', { name: 'Contested', price: 1, stock: 0 });
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          call('PATCH', `/crud/product/${row.id}`, {
            body: { stock: i + 1 },
            headers: { 'if-match': '"1"' },
          }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(11);
      const winner = replies.find((r) => r.status === 200)!.body as { stock: number };
      expect((await call('GET', `/crud/product/${row.id}`)).body).toMatchObject({
        stock: winner.stock,
        version: 2,
      });
    });

    it('DELETE answers 204, then the row is gone; a stale If-Match is 412', async () => {
      const row = await create('hello', { world: 'bye' });
      await call('PATCH', `/crud/hello/${row.id}`, { body: { world: 'bye!' } });
      expect((await call('DELETE', `/crud/hello/${row.id}`, { headers: { 'if-match': '"1"' } })).status).toBe(
        412,
      );
      const deleted = await call('DELETE', `/crud/hello/${row.id}`, { headers: { 'if-match': '"2"' } });
      expect(deleted.status).toBe(204);
      expect((await call('GET', `/crud/hello/${row.id}`)).status).toBe(404);
      expect((await call('DELETE', `/crud/hello/${row.id}`)).status).toBe(404);
    });
  });

  describe('list filters', () => {
    let catalog: Record<string, string>;

    beforeAll(async () => {
      await sql.query(`delete from gadget`);
      catalog = {};
      const rows = [
        { sku: 'FLT-1', label: 'Alpha', count: 1, amount: '1.5', active: true, colour: 'red' },
        { sku: 'FLT-2', label: 'alphabet', count: 2, amount: '2.5', active: false, colour: 'green' },
        { sku: 'FLT-3', label: 'Beta', count: 3, amount: '3.5', active: true, colour: 'blue' },
        { sku: 'FLT-4', label: null, count: 4, amount: '4.5', active: false, colour: 'red' },
        { sku: 'FLT-5', label: 'gamma', count: 5, amount: '5.5', active: true, colour: null },
        { sku: 'FLT-6', label: "it's", count: 6, amount: '6.5', active: true, colour: null },
      ];
      for (const row of rows) catalog[row.sku] = (await create('gadget', row)).id;
    });

    const skus = async (query: string) => {
      const reply = await call('GET', `/crud/gadget?${query}${query ? '&' : ''}order=sku&limit=5`);
      expect(reply.status).toBe(200);
      return (reply.body as { sku: string }[]).map((r) => r.sku);
    };

    it.each([
      ['count=eq.3', ['FLT-3']],
      ['count=neq.3', ['FLT-1', 'FLT-2', 'FLT-4', 'FLT-5', 'FLT-6']],
      ['count=gt.4', ['FLT-5', 'FLT-6']],
      ['count=gte.4', ['FLT-4', 'FLT-5', 'FLT-6']],
      ['count=lt.2', ['FLT-1']],
      ['count=lte.2', ['FLT-1', 'FLT-2']],
      ['amount=gte.2.5&amount=lt.4', ['FLT-2', 'FLT-3']],
      ['label=like.alpha*', ['FLT-2']],
      ['label=ilike.alpha*', ['FLT-1', 'FLT-2']],
      ['label=like.%25a', ['FLT-1', 'FLT-3', 'FLT-5']],
      ['colour=in.(red,blue)', ['FLT-1', 'FLT-3', 'FLT-4']],
      ['count=in.(2,6)', ['FLT-2', 'FLT-6']],
      ['colour=is.null', ['FLT-5', 'FLT-6']],
      ['label=not.is.null&colour=not.is.null', ['FLT-1', 'FLT-2', 'FLT-3']],
      ['active=is.false', ['FLT-2', 'FLT-4']],
      ['active=eq.true&colour=eq.red', ['FLT-1']],
      ['colour=not.in.(red,green)', ['FLT-3']],
      ["label=eq.it's", ['FLT-6']],
    ])('%s', async (query, expected) => {
      expect(await skus(query)).toEqual(expected);
    });

    it('orders, pages with limit and offset, caps the limit and selects fields', async () => {
      const desc = await call('GET', '/crud/gadget?order=count.desc&limit=2');
      expect((desc.body as { sku: string }[]).map((r) => r.sku)).toEqual(['FLT-6', 'FLT-5']);
      const page = await call('GET', '/crud/gadget?order=count.desc&limit=2&offset=2');
      expect((page.body as { sku: string }[]).map((r) => r.sku)).toEqual(['FLT-4', 'FLT-3']);
      expect(((await call('GET', '/crud/gadget')).body as unknown[]).length).toBe(3);
      expect(((await call('GET', '/crud/gadget?limit=1000')).body as unknown[]).length).toBe(5);
      const nullsFirst = await call('GET', '/crud/gadget?order=label.asc.nullsfirst&limit=1');
      expect((nullsFirst.body as { sku: string }[])[0].sku).toBe('FLT-4');
      const selected = await call('GET', '/crud/gadget?select=sku,count&count=eq.1');
      expect(selected.body).toEqual([{ sku: 'FLT-1', count: 1 }]);
      expect(ids(await call('GET', `/crud/gadget?id=eq.${catalog['FLT-2']}`))).toEqual([catalog['FLT-2']]);
    });

    it('answers 400 naming each bad filter, operator, order, select and limit', async () => {
      const reply = await call(
        'GET',
        '/crud/gadget?count=gt.many&colour=between.a&nope=eq.1&order=sku.up&select=sku,nope&limit=-3',
      );
      expect(reply.status).toBe(400);
      expect(issues(reply)).toEqual(['count', 'colour', 'nope', 'select', 'order', 'limit']);
      expect(issues(await call('GET', '/crud/gadget?active=like.t*'))).toEqual(['active']);
      expect(issues(await call('GET', '/crud/gadget?count=in.1,2'))).toEqual(['count']);
    });
  });

  describe('injection attempts', () => {
    it('matches filter values literally and refuses SQL in field names, order and select; the table stays intact', async () => {
      const before = await count('product');
      const payloads = [
        "x' OR '1'='1",
        "x'; drop table product; --",
        '1) or (1=1',
        '%',
        "' union select * from pg_user --",
      ];
      for (const payload of payloads) {
        const reply = await call('GET', `/crud/product?name=eq.${encodeURIComponent(payload)}`);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual([]);
      }
      const literal = await create('product', { name: "x' OR '1'='1", price: 1 });
      expect(ids(await call('GET', `/crud/product?name=eq.${encodeURIComponent("x' OR '1'='1")}`))).toEqual([
        literal.id,
      ]);
      expect(
        ids(await call('GET', `/crud/product?name=in.(${encodeURIComponent(`"x' OR '1'='1",zzz`)})`)),
      ).toEqual([literal.id]);
      expect(ids(await call('GET', `/crud/product?name=like.${encodeURIComponent("x' OR%")}`))).toEqual([
        literal.id,
      ]);

      const refused = [
        `/crud/product?${encodeURIComponent('name; drop table product; --')}=eq.1`,
        `/crud/product?${encodeURIComponent('"name"')}=eq.1`,
        `/crud/product?order=${encodeURIComponent('name; drop table product')}`,
        `/crud/product?order=${encodeURIComponent('(select 1)')}`,
        `/crud/product?order=name.${encodeURIComponent('desc; drop table product')}`,
        `/crud/product?select=${encodeURIComponent('id, (select usename from pg_user)')}`,
        `/crud/product?select=${encodeURIComponent('id::text')}`,
        `/crud/product?price=gt.${encodeURIComponent('0 or 1=1')}`,
        `/crud/product?limit=${encodeURIComponent('1; drop table product')}`,
        `/crud/${encodeURIComponent('product; drop table product')}`,
      ];
      for (const url of refused) {
        const reply = await call('GET', url);
        expect([url, reply.status]).toEqual([
          url,
          url.includes('drop%20table%20product') && url.startsWith('/crud/product%3B') ? 404 : 400,
        ]);
      }
      const body = await call('POST', '/crud/product', {
        body: { name: "'); drop table product; --", price: 1, 'price = 0; --': 1 },
      });
      expect(body.status).toBe(400);
      expect(issues(body)).toEqual(['price = 0; --']);
      expect(await count('product')).toBe(before + 1);
    });
  });

  describe('named queries', () => {
    it('runs a named query with typed parameters', async () => {
      await create('product', { name: 'Saw', price: '12.00', category: 'garden' });
      await create('product', { name: 'Rake', price: '8.00', category: 'garden' });
      const reply = await call('GET', '/crud/product/queries/by_category?category=garden');
      expect(reply.status).toBe(200);
      expect((reply.body as { name: string }[]).map((r) => r.name)).toEqual(['Rake', 'Saw']);
      const limited = await call('GET', '/crud/product/queries/by_category?category=garden&limit=1');
      expect(limited.body).toHaveLength(1);
    });

    it('answers 400 for a missing or unknown parameter and 404 for an unknown query', async () => {
      const missing = await call('GET', '/crud/product/queries/by_category');
      expect(missing.status).toBe(400);
      expect(issues(missing)).toEqual(['category']);
      expect(issues(await call('GET', '/crud/product/queries/by_category?category=x&colour=red'))).toEqual([
        'colour',
      ]);
      expect((await call('GET', '/crud/product/queries/nothing')).status).toBe(404);
    });

    it('runs in a read-only transaction: a query that tries to write fails and changes nothing', async () => {
      const before = await count('gadget');
      expect(before).toBeGreaterThan(0);
      const reply = await call('GET', '/crud/gadget/queries/sneaky_delete');
      expect(reply.status).toBe(500);
      expect(await count('gadget')).toBe(before);
    });
  });

  describe('the HTTP edge', () => {
    it('needs a known bearer token for writes (401 without, 403 unknown); reads are public', async () => {
      const anonymous = await call('POST', '/crud/hello', { body: { world: 'x' }, token: null });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(
        (await call('POST', '/crud/hello', { body: { world: 'x' }, token: 'not-a-known-token-000000' }))
          .status,
      ).toBe(403);
      expect(
        (await call('PATCH', '/crud/hello/0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d', { body: {}, token: null }))
          .status,
      ).toBe(401);
      expect(
        (await call('DELETE', '/crud/hello/0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d', { token: null })).status,
      ).toBe(401);
      expect(
        (await call('POST', '/crud/hello', { body: { world: 'x' }, token: 'another-token-0123456789' }))
          .status,
      ).toBe(201);
      expect((await call('GET', '/crud/hello', { token: null })).status).toBe(200);
    });

    it('answers 415 for a write that is not JSON and 413 over the body limit', async () => {
      const text = await call('POST', '/crud/hello', {
        raw: 'world=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(text.status).toBe(415);
      expect((await call('POST', '/crud/hello', { raw: '{"world":"x"}' })).status).toBe(415);
      const row = await create('hello', { world: 'small' });
      expect(
        (
          await call('PATCH', `/crud/hello/${row.id}`, {
            raw: 'x',
            headers: { 'content-type': 'text/plain' },
          })
        ).status,
      ).toBe(415);
      const big = await call('POST', '/crud/hello', { body: { world: 'x'.repeat(5000) } });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ error: 'payload_too_large' });
      const broken = await call('POST', '/crud/hello', {
        raw: '{"world":',
        headers: { 'content-type': 'application/json' },
      });
      expect(broken.status).toBe(400);
    });

    it('answers CORS for configured origins only', async () => {
      const allowed = await call('GET', '/crud/hello', { headers: { origin: 'http://allowed.example' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
      const exposed = allowed.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
      expect(exposed).toEqual(expect.arrayContaining(['ETag', 'Location', 'Link', 'Content-Range']));
      const other = await call('GET', '/crud/hello', { headers: { origin: 'http://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('serves the OpenAPI document generated from the definitions and the Swagger UI', async () => {
      const reply = await call('GET', '/openapi.json');
      expect(reply.status).toBe(200);
      const document = reply.body as {
        openapi: string;
        paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
        components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
      };
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/crud/product',
          '/crud/product/{id}',
          '/crud/product/queries/by_category',
          '/crud/hello',
          '/crud/gadget/{id}',
        ]),
      );
      expect(Object.keys(document.paths['/crud/product/{id}'])).toEqual(['get', 'patch', 'delete']);
      expect(document.paths['/crud/product/queries/by_category'].get.parameters?.map((p) => p.name)).toEqual([
        'category',
        'limit',
      ]);
      expect(document.components.schemas.ProductCreate.required).toEqual(['name', 'price']);
      expect(document.components.schemas.ProductCreate.properties.price).toMatchObject({
        anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }],
      });
      expect(Object.keys(document.components.schemas.Product.properties)).toEqual([
        'id',
        'name',
        'price',
        'category',
        'stock',
        'version',
        'created_at',
        'updated_at',
      ]);
      const docs = await call('GET', '/docs');
      expect(docs.status).toBe(200);
      expect(String(docs.body)).toContain('swagger-ui');
    });

    it.each(['/docs', '/docs/'])('serves Swagger UI at %s with every asset it links to', async (page) => {
      const html = String((await call('GET', page)).body);
      const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map(([, link]) => link);
      expect(assets.length).toBeGreaterThanOrEqual(4);
      for (const asset of assets) {
        const url = new URL(asset, `${base}${page}`);
        const response = await fetch(url);
        const type = response.headers.get('content-type') ?? '';
        expect({
          asset: url.pathname,
          status: response.status,
          typed: /css|javascript|png/.test(type),
        }).toEqual({
          asset: url.pathname,
          status: 200,
          typed: true,
        });
        expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
        // swagger-ui-init.js is ours, made from the page's settings; the rest are swagger-ui-dist's.
        if (url.pathname.endsWith('/swagger-ui-init.js')) continue;
        // Unchanged since: a 304 on the ETag, so a browser keeps its copy of the 1.5 MB bundle.
        const etag = response.headers.get('etag') ?? '';
        expect(etag).toMatch(/^"swagger-ui-dist-/);
        const again = await fetch(url, { headers: { 'if-none-match': etag } });
        expect(again.status).toBe(304);
      }
    });

    it('serves nothing else from the Swagger UI package under /docs', async () => {
      for (const other of [
        '/docs/index.css',
        '/docs/package.json',
        '/docs/../package.json',
        '/docs/oauth2-redirect.html',
      ])
        expect((await fetch(`${base}${other}`)).status).toBe(404);
    });
  });

  describe('CHECK constraints', () => {
    it('the tables refuse what the definitions forbid, even from a write that bypasses the app', async () => {
      const { rows } = await sql.query<{ conname: string }>(
        `select conname from pg_constraint where conrelid = 'gadget'::regclass and contype = 'c' order by 1`,
      );
      // count: min 0 and colour's values; sku's pattern is the app's alone (ECMAScript, not POSIX).
      expect(rows.map((r) => r.conname.replace(/_[0-9a-f]{8}$/, ''))).toEqual([
        'gadget_colour_enum',
        'gadget_count_min',
      ]);
      const before = await count('product');
      for (const statement of [
        `insert into gadget (sku, count) values ('CHK-1', -1)`,
        `insert into gadget (sku, colour) values ('CHK-2', 'purple')`,
        `insert into product (name, price) values ('', 1)`,
        `insert into product (name, price) values ('${'x'.repeat(201)}', 1)`,
        `update product set price = -1`,
        `update product set stock = -1`,
      ]) {
        await expect(sql.query(statement)).rejects.toMatchObject({ code: '23514' });
      }
      expect(await count('product')).toBe(before);
      expect((await sql.query(`select 1 from product where price < 0 or stock < 0`)).rowCount).toBe(0);
    });
  });

  describe('cursor paging', () => {
    const ROWS = 300;

    beforeAll(async () => {
      // Ties everywhere (7 prices, 3 stock levels, 5 categories), a quarter of the categories NULL,
      // and created_at values that differ only in microseconds, which a JS Date cannot hold.
      await sql.query(
        `insert into product (name, price, category, stock, created_at)
         select 'pg-' || lpad(i::text, 3, '0'), (i % 7) + 0.5,
                case when i % 4 = 0 then null else 'c' || (i % 5) end, i % 3,
                '2026-01-01T00:00:00Z'::timestamptz + (i % 50) * interval '1 microsecond'
           from generate_series(1, $1::int) as i`,
        [ROWS],
      );
    });

    /** Follows the Link headers from `url` to the last page; the names in the order they came. */
    const walk = async (url: string) => {
      const names: string[] = [];
      let next: string | undefined = url;
      let pages = 0;
      while (next !== undefined) {
        const reply = await call('GET', next);
        expect([next, reply.status]).toEqual([next, 200]);
        const rows = reply.body as { name: string }[];
        names.push(...rows.map((r) => r.name));
        const link = reply.headers.get('link');
        // limit=5 (the cap): a full page links the next one, a short one does not.
        if (rows.length === 5) expect(link).toMatch(/^<\/crud\/product\?[^>]*cursor=[\w-]+>; rel="next"$/);
        else expect(link).toBeNull();
        next = link === null ? undefined : /^<([^>]+)>/.exec(link)![1];
        if (++pages > ROWS) throw new Error(`no end after ${pages} pages`);
      }
      return names;
    };

    const ordered = async (orderBy: string) =>
      (
        await sql.query<{ name: string }>(
          `select name from product where name like 'pg-%' order by ${orderBy}, id`,
        )
      ).rows.map((r) => r.name);

    it.each([
      ['category.asc,price.desc', 'category asc, price desc'],
      ['category.desc.nullslast,stock', 'category desc nulls last, stock'],
      ['category.asc.nullsfirst,created_at.desc', 'category asc nulls first, created_at desc'],
      ['category.desc,price,stock.desc', 'category desc, price, stock desc'],
      ['created_at', 'created_at'],
      ['stock,price', 'stock, price'],
      ['id.desc', 'id desc'],
    ])('order=%s: every row exactly once, in the order of one unpaged read', async (order, orderBy) => {
      const expected = await ordered(orderBy);
      expect(expected).toHaveLength(ROWS);
      const names = await walk(`/crud/product?name=like.pg-*&order=${order}&limit=5&select=name`);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expected);
    });

    it('continues an offset page by cursor, and a full last page links to an empty one', async () => {
      const expected = await ordered('price, category');
      const names = await walk('/crud/product?name=like.pg-*&order=price,category&limit=5&offset=10');
      expect(names).toEqual(expected.slice(10));
      // 300 rows in pages of 5: the last page is full, so its link answers [] and no Link.
      expect((expected.length - 10) % 5).toBe(0);
    });

    it('answers 400 naming cursor for a malformed one, one made for another order, or one with offset', async () => {
      const first = await call('GET', '/crud/product?name=like.pg-*&order=price&limit=2');
      const cursor = /cursor=([\w-]+)>/.exec(first.headers.get('link') ?? '')![1];
      expect((await call('GET', `/crud/product?order=price&limit=2&cursor=${cursor}`)).status).toBe(200);

      const tamper = (key: number, value: string) => {
        const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { k: string[] };
        payload.k[key] = value;
        return Buffer.from(JSON.stringify(payload)).toString('base64url');
      };
      for (const [query, message] of [
        [`order=price&cursor=${encodeURIComponent('!!')}`, /malformed/],
        [`order=price&cursor=${Buffer.from('{"o":1}').toString('base64url')}`, /malformed/],
        [`order=price&cursor=${tamper(0, 'cheap')}`, /malformed/],
        [`order=price&cursor=${tamper(1, 'not-a-uuid')}`, /malformed/],
        [`order=name&cursor=${cursor}`, /another order/],
        [`cursor=${cursor}`, /another order/],
        [`order=price&cursor=${cursor}&offset=2`, /offset/],
      ] as const) {
        const reply = await call('GET', `/crud/product?${query}`);
        expect([query, reply.status]).toEqual([query, 400]);
        const problems = (reply.body as { issues: { field: string; message: string }[] }).issues;
        expect(problems).toEqual([{ field: 'cursor', message: expect.stringMatching(message) }]);
      }
    });

    it('documents cursor and the Link header in OpenAPI', async () => {
      const document = (await call('GET', '/openapi.json')).body as {
        paths: Record<
          string,
          { get: { parameters: { name: string }[]; responses: Record<string, { headers?: object }> } }
        >;
      };
      const list = document.paths['/crud/product'].get;
      expect(list.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['offset', 'cursor']));
      expect(list.responses['200'].headers).toHaveProperty('Link');
    });
  });

  it('refuses to start on a definition with errors, naming file and path', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'crud-bad-entities-'));
    writeFileSync(
      path.join(dir, 'product.yaml'),
      'name: product\nfields:\n  price: { type: decimal, min: zero }\n',
    );
    let error: unknown;
    try {
      CrudModule.forRoot({
        entitiesDir: dir,
        database: { url: servers.postgres.url, poolMax: 1 },
        auth: { tokens: [TOKEN], protectReads: false },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EntityDefinitionError);
    expect((error as Error).message).toMatch(
      /product\.yaml: fields\.price\.min: expected number, received string/,
    );
  });
});
