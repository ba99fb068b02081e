// npm run bench:aggregator — the real aggregator app (apps/aggregator/src/main.ts, its own process,
// exactly once: inbox claim, window state, row contributions, outbox result events in one transaction
// per batch) on the shipped products_per_category rule (cdc.product, group by category), against a raw
// loop in this process that applies the same window updates (row contributions + per-category counts
// and sums, one PostgreSQL transaction per batch, XACK after the commit) with no framework. Rounds
// alternate which side goes first. Then entry → result-visible latency through the app at a fixed rate.
import Redis from 'ioredis';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { EventEnvelope, Streams, encodeEnvelope, fieldMap } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { PostgresServer, RedisServer, freePort, startPostgres, startRedis } from '@choreo/testing';
import { benchServerReady, spawnBenchServer } from './bench-server';
import { exitOnHelp, fmt, median } from './bench-stats';
import { writeBenchmarkSection } from './streams/bench-section';

exitOnHelp(`
npm run bench:aggregator

The aggregator app (its own process, exactly once) on the shipped products_per_category rule against a
raw loop applying the same window updates with no framework, rounds alternating which side goes first;
then entry → result-visible latency at a fixed rate. Starts its own PostgreSQL and Redis.

Environment:
  BENCH_ROUNDS=3  BENCH_EVENTS=20000  BENCH_RATE=400  BENCH_RATE_SECONDS=8

Prints the table, records the aggregator section of docs/benchmarks.md, and last:
aggregator_ratio=… p99_ms=…
`);

const repoRoot = path.resolve(__dirname, '../../..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const BATCH = 500;
const RATE = Number(process.env['BENCH_RATE'] ?? 400);
const RATE_SECONDS = Number(process.env['BENCH_RATE_SECONDS'] ?? 8);
const CATEGORIES = ['tea', 'coffee', 'cake', 'bread', 'soup', 'salad', 'pasta', 'rice'];
const RAW_STREAM = 'bench.raw.product';

let sequence = 0;

/** A row insert as the cdc-relay writes it to cdc.product. */
function productInserted(): EventEnvelope {
  sequence += 1;
  const position = `${sequence.toString(16).toUpperCase().padStart(16, '0')}:00000001`;
  const id = `bench-${process.pid}-${sequence}`;
  const row = {
    id,
    name: `dish ${sequence}`,
    price: `${(sequence % 40) + 1}.50`,
    category: CATEGORIES[sequence % CATEGORIES.length],
    stock: 1,
  };
  return {
    id: `bench-event-${process.pid}-${sequence}`,
    type: 'product.inserted',
    source: 'cdc-relay',
    subject: id,
    time: new Date().toISOString(),
    data: {
      table: 'product',
      schema: 'public',
      key: { id },
      before: null,
      after: row,
      unchanged: [],
      position,
    },
  };
}

async function publish(redis: Redis, stream: string, events: readonly EventEnvelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1_000) {
    const pipeline = redis.pipeline();
    for (const e of events.slice(i, i + 1_000)) pipeline.xadd(stream, '*', ...encodeEnvelope(e));
    await pipeline.exec();
  }
}

/** The raw loop: read, parse, one transaction per batch with the same updates, ack after commit. */
async function runRaw(reader: Redis, redis: Redis, pool: Pool, expected: number): Promise<number> {
  let applied = 0;
  while (applied < expected) {
    const reply = (await reader.xreadgroup(
      'GROUP',
      'raw',
      'raw-1',
      'COUNT',
      BATCH,
      'BLOCK',
      1000,
      'STREAMS',
      RAW_STREAM,
      '>',
    )) as [string, [string, string[]][]][] | null;
    if (!reply) continue;
    const entries = reply[0][1];
    const rows: { key: string; category: string; price: string }[] = [];
    const windows = new Map<string, { n: number; cents: number }>();
    for (const [, fields] of entries) {
      const f = fieldMap(fields);
      const after = (JSON.parse(f['data']) as { after: { id: string; category: string; price: string } })
        .after;
      rows.push({ key: after.id, category: after.category, price: after.price });
      const w = windows.get(after.category) ?? { n: 0, cents: 0 };
      windows.set(after.category, { n: w.n + 1, cents: w.cents + Math.round(Number(after.price) * 100) });
    }
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `insert into raw_row (row_key, contribution) select k, jsonb_build_object('category', c, 'price', p)
         from unnest($1::text[], $2::text[], $3::text[]) as t(k, c, p) on conflict (row_key) do update set contribution = excluded.contribution`,
        [rows.map((r) => r.key), rows.map((r) => r.category), rows.map((r) => r.price)],
      );
      await client.query(
        `insert into raw_window (key, n, cents) select * from unnest($1::text[], $2::int[], $3::bigint[])
         on conflict (key) do update set n = raw_window.n + excluded.n, cents = raw_window.cents + excluded.cents`,
        [
          [...windows.keys()],
          [...windows.values()].map((w) => w.n),
          [...windows.values()].map((w) => w.cents),
        ],
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    await redis.xack(RAW_STREAM, 'raw', ...entries.map(([id]) => id));
    applied += entries.length;
  }
  return applied;
}

const appliedByApp = async (pool: Pool): Promise<number> =>
  Number(
    (
      await pool.query<{ n: string }>(
        "select coalesce(sum(events), 0) as n from aggregate_window where rule = 'products_per_category'",
      )
    ).rows[0].n,
  );

async function main(): Promise<void> {
  const pg: PostgresServer = await startPostgres({ fsync: false });
  const redisServer: RedisServer = await startRedis();
  const url = await pg.createDatabase('bench_aggregator');
  const owner = new Database({ url });
  await syncEntitySchema(owner, loadEntities(path.join(repoRoot, 'entities')));
  await owner.close();
  const pool = new Pool({ connectionString: url, max: 4 });
  await pool.query('create table raw_row (row_key text primary key, contribution jsonb)');
  await pool.query('create table raw_window (key text primary key, n int not null, cents bigint not null)');
  const redis = new Redis(redisServer.url);
  // Its own connection for XREADGROUP BLOCK, as the StreamConsumer has, so publishing never waits behind it.
  const reader = new Redis(redisServer.url);
  await redis.xgroup('CREATE', RAW_STREAM, 'raw', '$', 'MKSTREAM');
  const port = await freePort();
  const app = spawnBenchServer(
    'aggregator',
    ['apps/aggregator/src/main.ts'],
    {
      DATABASE_URL: url,
      REDIS_URL: redisServer.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AGGREGATIONS_DIR: path.join(repoRoot, 'aggregations'),
      ENTITIES_DIR: path.join(repoRoot, 'entities'),
      AGGREGATOR_BATCH_MAX: String(BATCH),
    },
    port,
  );
  try {
    await benchServerReady(app, '/readyz');
    const raw: number[] = [];
    const choreo: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const sides = round % 2 === 0 ? (['raw', 'choreo'] as const) : (['choreo', 'raw'] as const);
      for (const side of sides) {
        const events = Array.from({ length: EVENTS }, productInserted);
        const started = performance.now();
        if (side === 'raw') {
          const running = runRaw(reader, redis, pool, EVENTS);
          await publish(redis, RAW_STREAM, events);
          await running;
          raw.push(EVENTS / ((performance.now() - started) / 1000));
        } else {
          const before = await appliedByApp(pool);
          await publish(redis, Streams.cdc('product'), events);
          while ((await appliedByApp(pool)) < before + EVENTS) await sleep(2);
          choreo.push(EVENTS / ((performance.now() - started) / 1000));
        }
      }
      process.stdout.write(
        `round ${round + 1}: raw ${fmt(raw[round])}/s, aggregator ${fmt(choreo[round])}/s\n`,
      );
    }
    const ratios = choreo.map((c, i) => c / raw[i]);
    const ratio = median(ratios);

    // Latency at a fixed rate: publish time of each entry → the first poll that sees it counted.
    const before = await appliedByApp(pool);
    const total = RATE * RATE_SECONDS;
    const sentAt: number[] = [];
    const latencies: number[] = [];
    let seen = before;
    const publisher = (async () => {
      const start = performance.now();
      for (let i = 0; i < total; i += 1) {
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        sentAt.push(performance.now());
        await redis.xadd(Streams.cdc('product'), '*', ...encodeEnvelope(productInserted()));
      }
    })();
    const poller = new Pool({ connectionString: url, max: 1 });
    while (seen < before + total) {
      const now = await appliedByApp(poller);
      const at = performance.now();
      for (let i = seen - before; i < now - before; i += 1) latencies.push(at - sentAt[i]);
      seen = now;
      await sleep(1);
    }
    await publisher;
    await poller.end();
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    const p50 = p(0.5);
    const p99 = p(0.99);

    const body = [
      `\`npm run bench:aggregator\` (${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}):`,
      '',
      `| side | events/s (median of ${ROUNDS}) | per-round |`,
      '| --- | --- | --- |',
      `| raw loop (XREADGROUP, one transaction per batch of ${BATCH}, XACK) | ${fmt(median(raw))} | ${raw.map(fmt).join(' ')} |`,
      `| aggregator app (exactly once, outbox results) | ${fmt(median(choreo))} | ${choreo.map(fmt).join(' ')} |`,
      '',
      `Ratio aggregator ÷ raw: **${ratio.toFixed(2)}** (median of the per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}).`,
      `Latency, stream entry → result visible in aggregate_window, at ${RATE} events/s for ${RATE_SECONDS} s: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms.`,
      '',
      `${EVENTS} \`product.inserted\` entries per side per round, shaped as the cdc-relay writes them, on the shipped`,
      '`products_per_category` rule (global window, group by category, count and avg(price)). The raw loop',
      'applies the same window updates (each row contribution, per-category count and sum) with two statements',
      'in one transaction per batch and no inbox, watermark, late check or result events; the app does all of',
      'those in its transaction. Both sides run on the same PostgreSQL and Redis (fsync off) in the same run.',
    ].join('\n');
    writeBenchmarkSection(path.join(repoRoot, 'docs/benchmarks.md'), 'aggregator', body);
    process.stdout.write(`${body}\naggregator_ratio=${ratio.toFixed(2)} p99_ms=${p99.toFixed(1)}\n`);
  } finally {
    const exited = new Promise((resolve) => app.child.once('exit', resolve));
    app.child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => app.child.kill('SIGKILL'))]);
    redis.disconnect();
    reader.disconnect();
    await pool.end();
    await Promise.all([pg.stop(), redisServer.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
