// npm run bench:cdc — the relay (libs/cdc, in process) against a raw pgoutput decode loop
// (pg-logical-replication, messages decoded and discarded) over the same WAL in the same run; then
// commit→XADD latency at a fixed 5,000 rows/s; then the RSS of the real cdc-relay app while it
// relays one transaction of 1,000,000 rows; last, Redis alone: the relay's own entries, packed
// beforehand, appended by the same script under each AOF setting (what bounds the relay).
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { Registry } from 'prom-client';
import { appendNewer, CdcRelay, highWaterMarkKey, packBatch } from '@choreo/cdc';
import { Streams } from '@choreo/contracts';
import { freePort, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { writeBenchmarkSection } from './streams/bench-section';
import { exitOnHelp, fmt, median } from './bench-stats';

exitOnHelp(`
npm run bench:cdc

The CDC relay (libs/cdc, in process) against a raw pgoutput decode loop over the same WAL in the same
run; commit→XADD latency at a fixed 5,000 rows/s; the cdc-relay app's RSS while it relays one
transaction of 1,000,000 rows; Redis alone appending the relay's entries under each AOF setting.
Starts its own PostgreSQL and Redis.

Environment:
  BENCH_ROUNDS=9  BENCH_CDC_ROWS=150000  BENCH_CDC_RATE_SECONDS=10  BENCH_CDC_BIG_TX=1000000
  BENCH_CDC_CEILING_ROWS=100000

Prints the table and last: cdc_ratio=… p99_ms=…
`);

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 9);
const ROWS = Number(process.env['BENCH_CDC_ROWS'] ?? 150_000);
const RATE = 5_000;
const RATE_SECONDS = Number(process.env['BENCH_CDC_RATE_SECONDS'] ?? 10);
const BIG_TX = Number(process.env['BENCH_CDC_BIG_TX'] ?? 1_000_000);
const STREAM = Streams.cdc('bench_row');
const CEILING_ROWS = Number(process.env['BENCH_CDC_CEILING_ROWS'] ?? 100_000);
const CEILING_STREAM = 'bench.ceiling';
const repoRoot = path.resolve(__dirname, '../../..');

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function loadRows(db: Client, from: number, count: number, perTransaction = 10_000): Promise<void> {
  for (let start = from; start < from + count; start += perTransaction) {
    const end = Math.min(from + count, start + perTransaction) - 1;
    await db.query(
      `insert into bench_row (id, n, label) select g, g % 100, 'label-' || g from generate_series($1::bigint, $2::bigint) g`,
      [start, end],
    );
  }
}

/** pgoutput decoded by pg-logical-replication and discarded: the floor the relay is compared with. */
interface SideResult {
  rate: number;
  /** CPU of this (the bench's) process per row: the decoding or relaying Node work. */
  cpuMicrosPerRow: number;
}

async function rawDecode(url: string, slot: string, rows: number): Promise<SideResult> {
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  let seen = 0;
  let confirmAt = '';
  const done = new Promise<void>((resolve) => {
    service.on('data', (lsn: string, message: { tag: string }) => {
      if (message.tag === 'insert' && ++seen === rows) {
        confirmAt = lsn;
        resolve();
      }
    });
  });
  service.on('error', () => undefined);
  const started = performance.now();
  const cpu = process.cpuUsage();
  void service.subscribe(
    new PgoutputPlugin({ protoVersion: 1, publicationNames: ['choreo'], messages: true }),
    slot,
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await service.acknowledge(confirmAt);
  await service.destroy();
  return { rate: rows / seconds, cpuMicrosPerRow: (used.user + used.system) / rows };
}

function createRelay(databaseUrl: string, redisUrl: string): CdcRelay {
  return new CdcRelay({
    databaseUrl,
    redisUrl,
    publication: 'choreo',
    slot: 'choreo_relay',
    tables: ['bench_row'],
    heartbeatIntervalMs: 10_000,
    statusIntervalMs: 1_000,
    chunkEvents: 1_000,
    maxQueuedFrames: 5_000,
    tableRefreshMs: 10_000,
    registry: new Registry(),
  });
}

async function relayThroughput(
  databaseUrl: string,
  redis: Redis,
  redisUrl: string,
  rows: number,
): Promise<SideResult> {
  const base = await redis.xlen(STREAM);
  const relay = createRelay(databaseUrl, redisUrl);
  const started = performance.now();
  const cpu = process.cpuUsage();
  await relay.start();
  // Polled every 5 ms: the default 50 ms would add up to 50 ms to a run of about 2 s.
  await waitFor(
    'relay to append every row',
    async () => (await redis.xlen(STREAM)) >= base + rows,
    300_000,
    5,
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await relay.stop();
  return { rate: rows / seconds, cpuMicrosPerRow: (used.user + used.system) / rows };
}

/** Latency of each event: its stream entry id (Redis clock at XADD) minus its commit time. */
async function latencyAtRate(databaseUrl: string, redis: Redis, redisUrl: string, firstId: number) {
  const relay = createRelay(databaseUrl, redisUrl);
  await relay.start();
  await waitFor('streaming', async () => relay.state === 'streaming', 30_000);
  // Redis' own record of slow fsyncs (appendfsync always fsyncs before it replies): a slow disk
  // shows in the latencies, and here it shows where it comes from.
  await redis.config('SET', 'latency-monitor-threshold', '10');
  await redis.call('LATENCY', 'RESET');
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const lastEntry = (await redis.xrevrange(STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
  const perTick = RATE / 100; // a transaction every 10 ms
  const ticks = RATE_SECONDS * 100;
  const started = performance.now();
  let next = firstId;
  for (let tick = 0; tick < ticks; tick++) {
    await loadRows(db, next, perTick, perTick);
    next += perTick;
    const due = started + (tick + 1) * 10;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const achieved = ((next - firstId) / (performance.now() - started)) * 1000;
  await waitFor('every row appended', async () => (await redis.xlen(STREAM)) >= next - 1, 60_000);
  const latencies: number[] = [];
  let cursor = `(${lastEntry}`;
  for (;;) {
    const page = await redis.xrange(STREAM, cursor, '+', 'COUNT', 5_000);
    if (page.length === 0) break;
    for (const [id, fields] of page) {
      const time = fields[fields.indexOf('time') + 1];
      latencies.push(Number(id.split('-')[0]) - Date.parse(time));
    }
    cursor = `(${page[page.length - 1][0]}`;
  }
  await db.end();
  await relay.stop();
  const fsyncs = (await redis.call('LATENCY', 'HISTORY', 'aof-fsync-always')) as [number, number][];
  await redis.config('SET', 'latency-monitor-threshold', '0');
  latencies.sort((a, b) => a - b);
  return {
    achieved,
    events: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1],
    slowestFsyncMs: Math.max(0, ...fsyncs.map(([, ms]) => ms)),
    nextId: next,
  };
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** The real app (apps/cdc-relay/src/main.ts) in its own process, relaying one huge transaction. */
async function bigTransactionMemory(databaseUrl: string, redis: Redis, redisUrl: string, firstId: number) {
  const port = await freePort();
  const app: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/cdc-relay/src/main.ts'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        CDC_TABLES: 'bench_row',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pid = app.pid;
  if (pid === undefined) throw new Error('cdc-relay did not start');
  try {
    await waitFor(
      'cdc-relay ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      120_000,
    );
    await sleep(2_000);
    const baseline = rssKb(pid, 'VmRSS');
    const base = await redis.xlen(STREAM);
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const started = performance.now();
    await loadRows(db, firstId, BIG_TX, BIG_TX);
    const committed = performance.now();
    await db.end();
    // Peak RSS in the first and the second half of the transaction: memory that grew with the
    // transaction would show a higher second half.
    const peaks = [0, 0];
    let appended = 0;
    while (appended < BIG_TX) {
      const half = appended < BIG_TX / 2 ? 0 : 1;
      peaks[half] = Math.max(peaks[half], rssKb(pid, 'VmRSS'));
      appended = (await redis.xlen(STREAM)) - base;
      await sleep(100);
    }
    const finished = performance.now();
    return {
      baselineMb: baseline / 1024,
      firstHalfMb: peaks[0] / 1024,
      secondHalfMb: peaks[1] / 1024,
      peakMb: Math.max(...peaks, rssKb(pid, 'VmHWM')) / 1024,
      commitSeconds: (committed - started) / 1000,
      relaySeconds: (finished - committed) / 1000,
    };
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
  }
}

interface PackedBatch {
  packed: Buffer;
  /** The last position of the batch before it ('' for the first): the script's GAP check. */
  previous: string;
}

/** The relay's own entries in `stream`, re-packed for CEILING_STREAM in batches of 1,000. */
async function packedEntries(redis: Redis, count: number): Promise<PackedBatch[]> {
  const entries = (await redis.xrange(STREAM, '-', '+', 'COUNT', count)) as [string, string[]][];
  const batches: PackedBatch[] = [];
  for (let i = 0; i < entries.length; i += 1000) {
    const events = entries.slice(i, i + 1000).map(([, fields]) => ({
      stream: CEILING_STREAM,
      position: fields[fields.indexOf('position') + 1],
      fields,
    }));
    const previous = batches.length === 0 ? '' : entries[i - 1][1][entries[i - 1][1].indexOf('position') + 1];
    batches.push({ packed: packBatch(events), previous });
  }
  return batches;
}

const aofRewrites = (persistenceInfo: string) => Number(/aof_rewrites:(\d+)/.exec(persistenceInfo)?.[1] ?? 0);

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}

/**
 * Redis alone: the packed batches appended with the relay's script, 8 in flight as the relay keeps
 * them, under `appendfsync always` (as benchmarked above), `everysec`, and with the AOF off.
 */
async function redisCeiling(redis: Redis, batches: PackedBatch[]) {
  const rows = batches.length * 1000;
  const results: { setting: string; rate: number; cpuMicrosPerRow: number }[] = [];
  const settings: [string, [string, string][]][] = [
    ['AOF, appendfsync always', []],
    ['AOF, appendfsync everysec', [['appendfsync', 'everysec']]],
    ['no AOF', [['appendonly', 'no']]],
  ];
  for (const [setting, changes] of settings) {
    for (const [name, value] of changes) await redis.config('SET', name, value);
    await redis.del(CEILING_STREAM, highWaterMarkKey(CEILING_STREAM));
    const cpuBefore = await redisCpuSeconds(redis);
    const started = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (const batch of batches) {
      inFlight.push(appendNewer(redis, CEILING_STREAM, batch.packed, batch.previous));
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    const cpu = (await redisCpuSeconds(redis)) - cpuBefore;
    results.push({ setting, rate: rows / seconds, cpuMicrosPerRow: (cpu * 1e6) / rows });
    process.stdout.write(`Redis alone, ${setting}: ${fmt(rows / seconds)} rows/s\n`);
  }
  await redis.del(CEILING_STREAM, highWaterMarkKey(CEILING_STREAM));
  return results;
}

async function main(): Promise<void> {
  const [pg, redisServer] = await Promise.all([startPostgres({ fsync: false }), startRedis()]);
  const redis = new Redis(redisServer.url);
  try {
    const databaseUrl = await pg.createDatabase('bench');
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`create table bench_row (id bigint primary key, n int not null, label text not null);
                    alter table bench_row replica identity full;
                    create publication choreo for table bench_row`);
    await db.query(`select pg_create_logical_replication_slot('choreo_relay', 'pgoutput')`);

    // Latency first, on a small Redis: later phases grow the AOF past its automatic rewrite, whose
    // fork stalls appends for hundreds of ms on this machine (an operational concern, see docs/cdc.md).
    const latency = await latencyAtRate(databaseUrl, redis, redisServer.url, 1);
    let nextId = latency.nextId;
    process.stdout.write(
      `fixed rate: ${fmt(latency.achieved)} rows/s, commit→XADD p50 ${latency.p50} ms, p99 ${latency.p99} ms; Redis' slowest fsync ${latency.slowestFsyncMs} ms\n`,
    );
    // Created now, so that both slots have exactly the rounds' rows ahead of them.
    await db.query(`select pg_create_logical_replication_slot('bench_raw', 'pgoutput')`);
    const raw: number[] = [];
    const relay: number[] = [];
    const ratios: number[] = [];
    const rawCpu: number[] = [];
    const relayCpu: number[] = [];
    await redis.config('RESETSTAT');
    let rewrites = aofRewrites(await redis.info('persistence'));
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts from an empty stream, as one trimmed by its consumers would be: an untrimmed
      // stream grows every round, and each automatic AOF rewrite (a fork that writes the whole
      // dataset, competing for the 2 cores) with it. The marks stay.
      await redis.del(STREAM);
      // Both slots start at this round's rows: each side would otherwise first have PostgreSQL
      // re-read, and skip, WAL it already had (up to a round's worth, however far the slot's
      // restart_lsn lagged), a fixed cost that is not decoding or relaying these rows.
      await db.query('select pg_log_standby_snapshot()');
      await db.query(
        `select pg_replication_slot_advance(slot_name, pg_current_wal_lsn()) from pg_replication_slots where slot_name in ('bench_raw', 'choreo_relay')`,
      );
      await loadRows(db, nextId, ROWS);
      nextId += ROWS;
      await db.query('checkpoint');
      let rawSide: SideResult;
      let relaySide: SideResult;
      if (round % 2 === 0) {
        rawSide = await rawDecode(databaseUrl, 'bench_raw', ROWS);
        relaySide = await relayThroughput(databaseUrl, redis, redisServer.url, ROWS);
      } else {
        relaySide = await relayThroughput(databaseUrl, redis, redisServer.url, ROWS);
        rawSide = await rawDecode(databaseUrl, 'bench_raw', ROWS);
      }
      const [rawRate, relayRate] = [rawSide.rate, relaySide.rate];
      raw.push(rawRate);
      relay.push(relayRate);
      ratios.push(relayRate / rawRate);
      rawCpu.push(rawSide.cpuMicrosPerRow);
      relayCpu.push(relaySide.cpuMicrosPerRow);
      process.stdout.write(
        `round ${round + 1}: raw decode ${fmt(rawRate)} rows/s, relay ${fmt(relayRate)} rows/s\n`,
      );
    }
    await db.query(`select pg_drop_replication_slot('bench_raw')`);
    rewrites = aofRewrites(await redis.info('persistence')) - rewrites;
    // Redis' own time per appended event (the script: mark check, XADDs, AOF), from its command stats.
    const stats = (await redis.info('commandstats'))
      .split('\n')
      .filter((line) => /^cmdstat_(evalsha|eval):/.test(line))
      .map((line) => Number(/usec=(\d+)/.exec(line)?.[1] ?? 0));
    const redisMicrosPerRow = stats.reduce((a, b) => a + b, 0) / (ROWS * ROUNDS);
    const ceilingBatches = await packedEntries(redis, Math.min(CEILING_ROWS, ROWS));

    await redis.del(STREAM); // the marks stay: nothing is appended twice, and Redis keeps its memory for the next phase
    let memory: Awaited<ReturnType<typeof bigTransactionMemory>> | undefined;
    if (BIG_TX > 0) {
      memory = await bigTransactionMemory(databaseUrl, redis, redisServer.url, nextId);
      process.stdout.write(
        `one transaction of ${fmt(BIG_TX)} rows: relay RSS ${memory.baselineMb.toFixed(0)} MB before, peak ${memory.peakMb.toFixed(0)} MB\n`,
      );
    }
    await db.end();
    // Last: it changes Redis' AOF settings.
    const ceiling = await redisCeiling(redis, ceilingBatches);

    const ratio = median(ratios);
    const summary = `cdc_ratio=${ratio.toFixed(2)} p99_ms=${latency.p99}`;
    const rows = [
      `| raw pgoutput decode (pg-logical-replication, discarded) | ${fmt(median(raw))} | ${raw.map(fmt).join(' ')} | ${median(rawCpu).toFixed(1)} |`,
      `| relay: decode, envelope, Lua append with high-water mark (Redis AOF fsync always) | ${fmt(median(relay))} | ${relay.map(fmt).join(' ')} | ${median(relayCpu).toFixed(1)} |`,
    ];
    const section = [
      `\`npm run bench:cdc\` — ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, Node ${process.version}, its own PostgreSQL (fsync off) and redis-server (AOF, appendfsync always); ${ROUNDS} rounds of ${fmt(ROWS)} rows (transactions of 10,000) alternating which side reads first, each from its own slot over the same WAL; before each round both slots are moved to the end of the WAL (\`pg_log_standby_snapshot()\`, \`pg_replication_slot_advance\`), so neither side has PostgreSQL re-read earlier rounds' WAL first.`,
      '',
      '- raw decode: `LogicalReplicationService` + `PgoutputPlugin` (proto 1), no acknowledgements, every message parsed and dropped; timed from subscribe to the last insert.',
      `- relay: \`CdcRelay\` in process (chunks of 1,000 events); timed from \`start()\` to the last entry in \`cdc.bench_row\` (includes start-up checks), which is emptied before each round (as consumers' trimming would keep it; the marks stay); Redis rewrote its AOF ${rewrites} time(s) during the rounds (automatic rewrite at 64 MB, a fork that competes for the cores).`,
      `- latency: the relay running, ${fmt(RATE / 100)}-row transactions every 10 ms for ${RATE_SECONDS} s; per event, the stream entry id (Redis clock at XADD) minus the commit time carried in the event (ms precision).`,
      ...(memory
        ? [
            `- memory: the real app (\`apps/cdc-relay/src/main.ts\`, defaults: CDC_CHUNK_EVENTS 1000, CDC_MAX_QUEUED_FRAMES 5000) relaying one transaction of ${fmt(BIG_TX)} rows; RSS sampled every 100 ms from /proc.`,
          ]
        : []),
      '',
      '| side | rows/s (median) | per round | Node CPU µs/row (median) |',
      '| --- | ---: | --- | ---: |',
      ...rows,
      '',
      `Relay ÷ raw decode (median of per-round ratios): **${ratio.toFixed(2)}** (${ratios.map((r) => r.toFixed(2)).join(' ')}; target ≥ 0.5).`,
      '',
      `Where the relay's time goes: ${median(relayCpu).toFixed(1)} µs of Node CPU per row (decoding, the event and its JSON, packing the batch into one MessagePack argument, the socket) against ${median(rawCpu).toFixed(1)} µs for decoding alone, and ${redisMicrosPerRow.toFixed(1)} µs of Redis time per row inside the append script (XADD, the mark, the AOF write; \`INFO commandstats\`), with one fsync per script.`,
      '',
      `At a fixed rate (${fmt(latency.achieved)} rows/s achieved, ${fmt(latency.events)} events): commit→XADD p50 **${latency.p50} ms**, p99 **${latency.p99} ms**, max ${latency.max} ms (target p99 < 50 ms); Redis' slowest AOF fsync in that time ${latency.slowestFsyncMs} ms (\`LATENCY HISTORY aof-fsync-always\`, fsyncs over 10 ms; with \`appendfsync always\` a write waits for its fsync, so a slow disk moment shows in p99 whatever the relay does).`,
      '',
      memory
        ? `One transaction of ${fmt(BIG_TX)} rows: committed in ${memory.commitSeconds.toFixed(1)} s, relayed in ${memory.relaySeconds.toFixed(1)} s after the commit (${fmt(BIG_TX / memory.relaySeconds)} rows/s, including PostgreSQL decoding it from its spill files); relay RSS ${memory.baselineMb.toFixed(0)} MB idle, peak **${memory.peakMb.toFixed(0)} MB** while relaying (highest sample in the first half of the rows ${memory.firstHalfMb.toFixed(0)} MB, in the second half ${memory.secondHalfMb.toFixed(0)} MB${memory.secondHalfMb <= memory.firstHalfMb * 1.25 ? ': no growth with the transaction, the V8 heap saw-tooths between collections' : ': the second half is higher — check for growth'}).`
        : 'The 1,000,000-row memory run was skipped (BENCH_CDC_BIG_TX=0).',
      '',
      `Redis alone (${fmt(ceilingBatches.length * 1000)} of the relay's own entries, packed beforehand, appended by the same script in batches of 1,000, 8 in flight): what bounds the relay whatever Node does. Raw decode is the median above.`,
      '',
      '| Redis persistence | rows/s | ÷ raw decode | Redis CPU µs/row |',
      '| --- | ---: | ---: | ---: |',
      ...ceiling.map(
        (c) =>
          `| ${c.setting} | ${fmt(c.rate)} | ${(c.rate / median(raw)).toFixed(2)} | ${c.cpuMicrosPerRow.toFixed(1)} |`,
      ),
      '',
      `\`${summary}\``,
      '',
      `Load average at the end: ${os.loadavg()[0].toFixed(1)} (the machine is shared, so absolute rates move between runs; the ratio compares two sides of the same round).`,
    ].join('\n');
    writeBenchmarkSection(path.join(repoRoot, 'docs/benchmarks.md'), 'cdc', section);
    process.stdout.write(`${summary}\n`);
  } finally {
    redis.disconnect();
    await Promise.all([pg.stop(), redisServer.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
