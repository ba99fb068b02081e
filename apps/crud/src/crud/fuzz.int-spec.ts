import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { runApp } from '@choreo/runtime';
import {
  deepJson,
  fuzzRequest,
  fuzzRoutes,
  hostileSegment,
  hostileText,
  hugeJson,
  postgrestFilter,
  postgrestHeaders,
  tableDigests,
  useSpecServers,
} from '@choreo/testing';
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

const FIELDS = ['id', 'sku', 'name', 'qty', 'price', 'attrs', 'active', 'seen_at', 'colour', 'version'];
const BODY_LIMIT = 16384;
const requests = fuzzRequest({
  targets: fc.oneof(
    fc.constantFrom(
      '/crud/item',
      '/crud/item/queries/by_sku',
      '/crud/nope',
      '/openapi.json',
      '/livez',
      '/metrics',
    ),
    fc
      .tuple(fc.constantFrom('/crud/item/', '/crud/', '/crud/item/queries/'), hostileSegment)
      .map(([p, s]) => p + s),
  ),
  filters: postgrestFilter(FIELDS),
  bodies: fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          sku: hostileText,
          name: hostileText,
          qty: fc.oneof(fc.integer(), hostileText),
          attrs: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    fc
      .array(fc.record({ sku: hostileText, qty: fc.integer() }), { maxLength: 3 })
      .map((v) => JSON.stringify(v)),
    deepJson,
    hugeJson(BODY_LIMIT * 2),
    hostileText,
  ),
  headers: postgrestHeaders,
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
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: BODY_LIMIT, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    port = (app.getHttpServer().address() as AddressInfo).port;
    sql = servers.pool({ max: 1 });
    await sql.query(`insert into item (sku, name, qty) values ('A-1', 'alpha', 1), ('B-2', 'beta', 2)`);
  });

  it('answers every generated request below 500, and refusals write nothing', async () => {
    await fuzzRoutes({
      port,
      requests,
      token: TOKEN,
      snapshot: () => tableDigests(sql, ['item']),
      numRuns: 300,
    });
  }, 120_000);
});
