import Redis from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { CdcRelay } from '@choreo/cdc';
import { EventEnvelope, Streams, decodeEnvelope } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { runApp } from '@choreo/runtime';
import { PostgresServer, RedisServer, startPostgres, startRedis } from '@choreo/testing';
import { AggregatorModule } from '../aggregator.module';
import { loadRuleSet } from '../windows/rule-set';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const ENTITIES_DIR = path.join(REPO_ROOT, 'entities');

/**
 * The aggregator's REST app over the repository's own rules, on a free port, with no closer tick:
 * the routes only read, so nothing changes while a spec drives them (the OpenAPI and fuzz specs).
 */
export function startAggregatorHttp(databaseUrl: string, bodyLimitBytes: number): Promise<INestApplication> {
  return runApp({
    app: 'aggregator',
    module: AggregatorModule.forRoot({
      database: { url: databaseUrl, poolMax: 3 },
      rules: loadRuleSet(path.join(REPO_ROOT, 'aggregations'), ENTITIES_DIR),
      settings: { idleMs: 3_600_000, tickMs: 3_600_000, batchMax: 50 },
    }),
    http: { port: 0, host: '127.0.0.1', bodyLimitBytes, corsOrigins: [] },
    log: { level: 'silent' },
  });
}

/** The rules the specs run: every window kind over `events.sale`, every measure. */
export const saleRules = (lateness = '3s') => `rules:
${[
  ['sale_tumbling', '{ type: tumbling, size: 2s }'],
  ['sale_hopping', '{ type: hopping, size: 4s, slide: 1s }'],
  ['sale_session', '{ type: session, gap: 1500ms }'],
]
  .map(
    ([name, window]) => `  - name: ${name}
    source: events.sale
    types: [sale.created]
    window: ${window}
    groupBy: [shop]
    measures:
      n: { fn: count }
      total: { fn: sum, field: amount }
      mean: { fn: avg, field: amount }
      low: { fn: min, field: amount }
      high: { fn: max, field: amount }
      words: { fn: count_distinct, field: word }
      text: { fn: string_agg, field: word, separator: '|' }
    lateness: ${lateness}
`,
  )
  .join('\n')}`;

/** A directory holding `rules` as its one rule file. */
export function rulesDir(rules = saleRules()): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'choreo-rules-'));
  writeFileSync(path.join(dir, 'sales.yaml'), rules);
  return dir;
}

export interface Sale {
  id: string;
  /** Epoch ms. */
  time: number;
  shop: string;
  /** Amount in cents. */
  cents: number;
  word: string;
}

export function saleEvent(sale: Sale): EventEnvelope {
  return {
    id: sale.id,
    type: 'sale.created',
    source: 'spec',
    subject: sale.id,
    time: new Date(sale.time).toISOString(),
    data: { shop: sale.shop, amount: (sale.cents / 100).toFixed(2), word: sale.word },
  };
}

/** A seeded pseudo-random generator, so a failing run can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` sales over `spanMs` from `base`, three shops, four words, amounts up to 500.00. */
export function makeSales(next: () => number, count: number, base: number, spanMs: number): Sale[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `sale-${base}-${String(i).padStart(5, '0')}`,
    time: base + Math.floor(next() * spanMs),
    shop: ['north', 'south', 'east'][Math.floor(next() * 3)],
    cents: Math.floor(next() * 50_000),
    word: ['ash', 'birch', 'cedar', 'dogwood'][Math.floor(next() * 4)],
  }));
}

/**
 * The delivery order: time order with each sale moved back by up to `disorderMs` of event time (so
 * within the allowed lateness), and `duplicateShare` of them delivered a second time.
 */
export function deliveryOrder(
  next: () => number,
  sales: readonly Sale[],
  disorderMs: number,
  duplicateShare: number,
): Sale[] {
  const keyed = sales.map((s) => [s.time + next() * disorderMs, s] as const).sort((a, b) => a[0] - b[0]);
  const order = keyed.map(([, s]) => s);
  // A redelivery comes after the first delivery, anywhere later.
  for (const sale of sales) {
    if (next() >= duplicateShare) continue;
    const first = order.indexOf(sale);
    order.splice(first + 1 + Math.floor(next() * (order.length - first)), 0, sale);
  }
  return order;
}

/** Real PostgreSQL (entity tables synced) and Redis, and a running cdc-relay carrying the outbox. */
export interface Backbone {
  postgres: PostgresServer;
  redisServer: RedisServer;
  url: string;
  redis: Redis;
  sql: Client;
  relay: CdcRelay;
  stop(): Promise<void>;
}

export async function startBackbone(name: string): Promise<Backbone> {
  const [postgres, redisServer] = await Promise.all([startPostgres({ fsync: false }), startRedis()]);
  const url = await postgres.createDatabase(name);
  const schemaOwner = new Database({ url });
  await syncEntitySchema(schemaOwner, loadEntities(ENTITIES_DIR));
  await schemaOwner.close();
  const sql = new Client({ connectionString: url });
  await sql.connect();
  const relay = new CdcRelay({
    databaseUrl: url,
    redisUrl: redisServer.url,
    publication: 'choreo',
    slot: 'choreo_relay',
    tables: 'auto',
    heartbeatIntervalMs: 500,
    statusIntervalMs: 200,
    chunkEvents: 500,
    maxQueuedFrames: 5000,
    tableRefreshMs: 500,
    registry: new Registry(),
  });
  await relay.start();
  const redis = new Redis(redisServer.url);
  return {
    postgres,
    redisServer,
    url,
    redis,
    sql,
    relay,
    async stop() {
      await relay.stop(2_000);
      redis.disconnect();
      await sql.end();
      await Promise.all([postgres.stop(), redisServer.stop()]);
    },
  };
}

/** Every result event on `aggregates`, decoded, in stream order. */
export async function aggregatesStream(redis: Redis): Promise<EventEnvelope<Record<string, unknown>>[]> {
  const entries = await redis.xrange(Streams.aggregates, '-', '+');
  return entries.map(([, fields]) => decodeEnvelope<Record<string, unknown>>(fields));
}

/** The batch oracle: the sales in a plain table, and each window kind's expected windows by SQL. */
export async function oracleWindows(
  sql: Client,
  table: string,
  sales: readonly Sale[],
): Promise<Record<'sale_tumbling' | 'sale_hopping' | 'sale_session', unknown[]>> {
  await sql.query(`create table ${table} (id text primary key, t_ms bigint not null, shop text not null,
    amount numeric not null, word text not null)`);
  await sql.query(
    `insert into ${table} select * from jsonb_to_recordset($1::jsonb)
       as s(id text, t_ms bigint, shop text, amount numeric, word text)`,
    [
      JSON.stringify(
        sales.map((s) => ({
          id: s.id,
          t_ms: s.time,
          shop: s.shop,
          amount: (s.cents / 100).toFixed(2),
          word: s.word,
        })),
      ),
    ],
  );
  const measures = `count(*)::int as n, sum(amount)::text as total, round(avg(amount), 9)::float8 as mean,
    min(amount)::text as low, max(amount)::text as high, count(distinct word)::int as words,
    string_agg(word, '|' order by t_ms, id) as text`;
  const shape = (rows: Record<string, unknown>[]) =>
    rows.map(({ shop, start_ms, end_ms, ...values }) => ({
      key: [shop],
      start: Number(start_ms),
      end: Number(end_ms),
      values,
    }));
  const tumbling = await sql.query(
    `select shop, (t_ms / 2000) * 2000 as start_ms, (t_ms / 2000) * 2000 + 2000 as end_ms, ${measures}
     from ${table} group by 1, 2, 3 order by 2, 1`,
  );
  const hopping = await sql.query(
    `select shop, (t_ms / 1000) * 1000 - k * 1000 as start_ms, (t_ms / 1000) * 1000 - k * 1000 + 4000 as end_ms, ${measures}
     from ${table}, generate_series(0, 3) as k group by 1, 2, 3 order by 2, 1`,
  );
  // Gaps and islands: a new session where the previous sale of the shop is more than the gap before.
  const session = await sql.query(
    `with marked as (
       select *, case when t_ms - lag(t_ms) over w > 1500 then 1 else 0 end as starts
       from ${table} window w as (partition by shop order by t_ms, id)
     ), numbered as (
       select *, sum(starts) over (partition by shop order by t_ms, id) as session from marked
     )
     select shop, min(t_ms) as start_ms, max(t_ms) + 1500 as end_ms, ${measures}
     from numbered group by shop, session order by 2, 1`,
  );
  return {
    sale_tumbling: shape(tumbling.rows),
    sale_hopping: shape(hopping.rows),
    sale_session: shape(session.rows),
  };
}

/** A rule's windows from REST, in the oracle's shape (means rounded like the oracle's). */
export function restShape(windows: readonly Record<string, unknown>[]): unknown[] {
  return windows
    .map((w) => {
      const values = w['values'] as Record<string, unknown>;
      return {
        key: w['key'],
        start: Date.parse(w['window_start'] as string),
        end: Date.parse(w['window_end'] as string),
        values: { ...values, mean: Number((values['mean'] as number).toFixed(9)) },
      };
    })
    .sort((a, b) => a.start - b.start || String(a.key).localeCompare(String(b.key)));
}
