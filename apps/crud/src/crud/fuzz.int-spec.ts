import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { runApp } from '@choreo/runtime';
import { useSpecServers } from '@choreo/testing';
import { CrudModule } from './crud.module';

const TOKEN = 'fuzz-test-token-0123456789';
const ITEM = `
name: item
fields:
  sku: { type: text, required: true, unique: true, maxLength: 20 }
  name: { type: text }
  qty: { type: integer, min: 0 }
  price: { type: decimal, precision: 8, scale: 2 }
  attrs: { type: jsonb }
  active: { type: boolean }
  seen_at: { type: timestamp }
  colour: { type: enum, values: [red, green] }
queries:
  by_sku:
    params:
      sku: { type: text, required: true }
    sql: select * from item where sku = :sku
`;

interface Answer {
  status: number;
}

/** One request on a fresh connection (any method, CONNECT included); a reset or hang-up rejects. */
function send(
  port: number,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  // Node's client frames no body of GET/OPTIONS/DELETE…: say its length, as real clients do.
  if (body !== undefined) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path: url, headers, agent: false },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // CONNECT is answered on the raw socket (see libs/runtime installRefusals).
    request.on('connect', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.end(body);
  });
}

const FIELDS = ['id', 'sku', 'name', 'qty', 'price', 'attrs', 'active', 'seen_at', 'colour', 'version'];
const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
  'in',
  'is',
  'isdistinct',
  'cs',
  'cd',
  'fts',
  'wfts',
  'sl',
  'ov',
  'like(any)',
  'eq(all)',
  'fts(english)',
  'fts(nope)',
];
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme-composite' }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\\',
    'a\\',
    '%',
    '*',
    '(',
    ')',
    '"',
    ',',
    '.',
    '{',
    '}',
    "'",
    '--',
    '[',
    '1e999',
    '-1',
    '99999999999999999999',
    'null',
    'true',
    '2026-13-45',
    '{"a":',
    '(a,"b',
    '\ud800',
  ),
);
const operand = fc.oneof(
  nasty,
  fc.integer().map(String),
  fc.double().map(String),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);
const filter = fc.tuple(
  fc.oneof(
    fc.constantFrom(
      ...FIELDS,
      'or',
      'and',
      'not.or',
      'select',
      'order',
      'limit',
      'offset',
      'cursor',
      'columns',
      'on_conflict',
    ),
    nasty,
  ),
  fc.oneof(
    fc
      .tuple(fc.boolean(), fc.constantFrom(...OPERATORS), operand)
      .map(([not, op, v]) => `${not ? 'not.' : ''}${op}.${v}`),
    fc
      .tuple(fc.constantFrom(...FIELDS), fc.constantFrom(...OPERATORS), operand)
      .map(([f, op, v]) => `(${f}.${op}.${v})`),
    operand,
  ),
);
const target = fc.oneof(
  fc.constantFrom(
    '/crud/item',
    '/crud/item/queries/by_sku',
    '/crud/nope',
    '/openapi.json',
    '/livez',
    '/metrics',
  ),
  fc
    .tuple(fc.constantFrom('/crud/item/', '/crud/', '/crud/item/queries/'), nasty)
    .map(([p, s]) => p + encodeURIComponent(Buffer.from(s).toString())),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      { sku: nasty, name: nasty, qty: fc.oneof(fc.integer(), nasty), attrs: fc.jsonValue({ maxDepth: 3 }) },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.array(fc.record({ sku: nasty, qty: fc.integer() }), { maxLength: 3 }).map((v) => JSON.stringify(v)),
  fc.nat({ max: 60 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  nasty,
);
const request = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'TRACE', 'CONNECT'),
  target,
  filters: fc.array(filter, { maxLength: 4 }),
  body,
  token: fc.boolean(),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json', undefined),
  prefer: fc.subarray([
    'return=representation',
    'return=minimal',
    'count=exact',
    'count=planned',
    'resolution=merge-duplicates',
    'handling=strict',
    'max-affected=0',
    'missing=default',
    'bogus',
  ]),
  accept: fc.constantFrom(
    undefined,
    'application/vnd.pgrst.object+json',
    'text/csv',
    '*/*',
    'application/json;nulls=stripped',
  ),
  range: fc.option(fc.constantFrom('0-1', '5-', '3-1', 'x', '999999999-')),
});

// Every route of the crud app, driven by generated requests: none may answer a 5xx or drop the
// connection, and a refused request (4xx) must leave the table exactly as it was.
describe('crud fuzz: no 5xx, no dropped connection, nothing written by a refusal', () => {
  const servers = useSpecServers({ postgres: true, database: 'fuzz' });
  let app: INestApplication;
  let port: number;
  let sql: Pool;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-entities-'));
    writeFileSync(path.join(dir, 'item.yaml'), ITEM);
    app = await runApp({
      app: 'crud',
      module: CrudModule.forRoot({
        entitiesDir: dir,
        database: { url: servers.databaseUrl, poolMax: 4 },
        auth: { tokens: [TOKEN], protectReads: false },
        limits: { defaultLimit: 20, maxLimit: 50 },
      }),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 16384, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    port = (app.getHttpServer().address() as AddressInfo).port;
    sql = servers.pool({ max: 1 });
    await sql.query(`insert into item (sku, name, qty) values ('A-1', 'alpha', 1), ('B-2', 'beta', 2)`);
  });

  const snapshot = async () =>
    (
      await sql.query(
        `select count(*) as n, md5(coalesce(string_agg(t::text, ',' order by id), '')) as digest from item t`,
      )
    ).rows[0] as { n: string; digest: string };

  it('answers every generated request below 500, and refusals write nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const query = new URLSearchParams(r.filters).toString();
        const url = `${r.target}${query ? `?${query}` : ''}`;
        const headers: Record<string, string> = {};
        if (r.token) headers.authorization = `Bearer ${TOKEN}`;
        if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
        if (r.prefer.length > 0) headers.prefer = r.prefer.join(', ');
        if (r.accept) headers.accept = r.accept;
        if (r.range) headers.range = r.range;
        const before = await snapshot();
        const answer = await send(port, r.method, url, headers, r.body);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
