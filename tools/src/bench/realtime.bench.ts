import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { encodeEnvelope, Streams } from '@choreo/contracts';
import { freePort, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { fmt, median } from './bench-stats';
import { spawnBenchServer } from './bench-server';
import { benchChannels, FromClients, ToClients } from './realtime/bench-protocol';

const HELP = `usage: npm run bench:realtime [-- --idle N --storm N --rounds N]

Measures the notifications app against a bare ws server in the same run, clients in separate processes:
  (a) deliveries/s (a burst, fan-out 50) and stream entry → client frame latency p50/p99 at a fixed rate
  (b) idle memory per connection (server RSS growth over N idle subscribed connections, default 10000)
  (c) N resumable clients (default 5000) dropped at once: time until all resumed, publications lost
Prints a table and, last, realtime_ratio=<x> p99_ms=<y> idle_kb_per_conn=<z> storm_resume_s=<s> storm_lost=<n>
`;
if (process.argv.includes('--help')) {
  process.stdout.write(HELP);
  process.exit(0);
}
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};

const root = path.resolve(__dirname, '../../..');
const CLIENT_PROCESSES = 4;
const CONNECTIONS = 1000;
const CHANNELS = 20; // fan-out 50
const BURST_EVENTS = 4000;
const RATE = 100; // events/s in the latency phase (5,000 deliveries/s)
const LATENCY_SECONDS = 10;
const IDLE = arg('idle', 10_000);
const STORM = arg('storm', 5000);
const ROUNDS = arg('rounds', 3);

interface Side {
  name: 'notifications' | 'raw ws';
  wsUrl: string;
  child: ChildProcess;
  emit(channels: string[], events: number, rate: number): Promise<void>;
}

class ClientPool {
  private readonly children: ChildProcess[] = [];
  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      this.children.push(
        fork(path.join(__dirname, 'realtime/bench-clients.ts'), [], {
          execArgv: ['-r', '@swc-node/register'],
          cwd: root,
        }),
      );
    }
  }

  /** Sends `message(i)` to each process and collects one reply of `kind` from each. */
  async ask<K extends FromClients['kind']>(
    kind: K,
    message: (i: number) => ToClients,
  ): Promise<Extract<FromClients, { kind: K }>[]> {
    return Promise.all(
      this.children.map(
        (child, i) =>
          new Promise<Extract<FromClients, { kind: K }>>((resolve) => {
            const listener = (reply: FromClients) => {
              if (reply.kind !== kind) return;
              child.off('message', listener);
              resolve(reply as Extract<FromClients, { kind: K }>);
            };
            child.on('message', listener);
            child.send(message(i));
          }),
      ),
    );
  }

  tell(message: ToClients): void {
    for (const child of this.children) child.send(message);
  }

  connect(url: string, total: number, channels: string[], resumable = false) {
    const share = Math.ceil(total / this.children.length);
    return this.ask('connected', (i) => ({
      cmd: 'connect',
      url,
      count: Math.min(share, total - i * share),
      channels,
      offset: i * share,
      resumable,
    }));
  }

  async reports() {
    const all = await this.ask('report', () => ({ cmd: 'report' }));
    return {
      frames: all.reduce((n, r) => n + r.frames, 0),
      lastAt: Math.max(...all.map((r) => r.lastAt)),
      latencies: all.flatMap((r) => r.latencies),
    };
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const rssKb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** XADDs `events` aggregate values round-robin over `channels` at `rate` a second (0: pipelined as fast as Redis takes them). */
async function emitToStream(redis: Redis, channels: string[], events: number, rate: number): Promise<void> {
  const started = Date.now();
  for (let sent = 0; sent < events; ) {
    const due = rate === 0 ? sent + 500 : Math.floor(((Date.now() - started) / 1000) * rate);
    const pipeline = redis.pipeline();
    for (; sent < Math.min(due, events); sent++) {
      const rule = channels[sent % channels.length].slice('aggregates:'.length);
      pipeline.xadd(
        Streams.aggregates,
        '*',
        ...encodeEnvelope({
          id: `bench-${started}-${sent}`,
          type: 'aggregate.updated',
          source: 'bench',
          subject: rule,
          time: new Date().toISOString(),
          data: { rule, value: sent, sent_at: Date.now() },
        }),
      );
    }
    await pipeline.exec();
    if (rate > 0) await sleep(5);
  }
}

async function measure(side: Side, pool: ClientPool) {
  const channels = benchChannels(`load-${side.name === 'raw ws' ? 'raw' : 'n'}-${Date.now()}`, CHANNELS);
  await pool.connect(side.wsUrl, CONNECTIONS, channels);
  const fanout = CONNECTIONS / CHANNELS;
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    pool.tell({ cmd: 'reset' });
    const started = Date.now();
    await side.emit(channels, BURST_EVENTS, 0);
    let report = await pool.reports();
    await waitFor(
      `${side.name} burst delivered`,
      async () => (report = await pool.reports()).frames >= BURST_EVENTS * fanout,
      120_000,
      200,
    );
    rates.push(report.frames / ((report.lastAt - started) / 1000));
  }
  pool.tell({ cmd: 'reset' });
  await side.emit(channels, RATE * LATENCY_SECONDS, RATE);
  let report = await pool.reports();
  await waitFor(
    `${side.name} paced delivered`,
    async () => (report = await pool.reports()).frames >= RATE * LATENCY_SECONDS * fanout,
    60_000,
    200,
  );
  const sorted = report.latencies.sort((a, b) => a - b);
  await pool.ask('closed', () => ({ cmd: 'close' }));
  return { rate: median(rates), rates, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function idleKbPerConnection(side: Side, pool: ClientPool): Promise<number> {
  await sleep(1000);
  const before = rssKb(side.child.pid);
  await pool.connect(side.wsUrl, IDLE, benchChannels('idle', 100));
  await sleep(3000);
  const after = rssKb(side.child.pid);
  await pool.ask('closed', () => ({ cmd: 'close' }));
  return (after - before) / IDLE;
}

async function main(): Promise<void> {
  const [redisServer, postgres] = await Promise.all([startRedis(), startPostgres({ fsync: false })]);
  const databaseUrl = await postgres.createDatabase('bench_realtime');
  const redis = new Redis(redisServer.url);
  const [notificationsPort, rawPort] = await Promise.all([freePort(), freePort()]);
  const app = spawnBenchServer(
    'notifications',
    ['apps/notifications/src/main.ts'],
    {
      PORT: String(notificationsPort),
      HOST: '127.0.0.1',
      REDIS_URL: redisServer.url,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true',
      REALTIME_MAX_SUBSCRIPTIONS: '100',
    },
    notificationsPort,
  );
  const rawChild = fork(path.join(__dirname, 'realtime/raw-ws-server.ts'), [], {
    execArgv: ['-r', '@swc-node/register'],
    cwd: root,
    env: { ...process.env, PORT: String(rawPort) },
  });
  const pool = new ClientPool(CLIENT_PROCESSES);
  try {
    await waitFor(
      'notifications ready',
      async () => (await fetch(`${app.url}/readyz`).catch(() => undefined))?.ok === true,
      60_000,
      200,
    );
    await new Promise((resolve) => rawChild.once('message', resolve));
    const notifications: Side = {
      name: 'notifications',
      wsUrl: `ws://127.0.0.1:${notificationsPort}/ws`,
      child: app.child,
      emit: (channels, events, rate) => emitToStream(redis, channels, events, rate),
    };
    const raw: Side = {
      name: 'raw ws',
      wsUrl: `ws://127.0.0.1:${rawPort}/`,
      child: rawChild,
      emit: (channels, events, rate) =>
        new Promise((resolve) => {
          rawChild.once('message', () => resolve());
          rawChild.send({ cmd: 'emit', channels, events, rate });
        }),
    };

    const rawLoad = await measure(raw, pool);
    const load = await measure(notifications, pool);
    const rawIdle = await idleKbPerConnection(raw, pool);
    const idle = await idleKbPerConnection(notifications, pool);

    // The storm: resumable clients on live channels, all dropped at once while publications go on.
    const stormChannels = benchChannels(`storm-${Date.now()}`, STORM / 10);
    await pool.connect(notifications.wsUrl, STORM, stormChannels, true);
    let emitting = true;
    const emitter = (async () => {
      while (emitting) await emitToStream(redis, stormChannels, 20, 0).then(() => sleep(100));
    })();
    await sleep(3000);
    const dropped = await pool.ask('dropped', () => ({ cmd: 'drop' }));
    await sleep(2000);
    emitting = false;
    await emitter;
    await sleep(3000);
    const last: Record<string, number> = {};
    for (const channel of stormChannels)
      last[channel] = Number(await redis.hget(`rt:{${channel}}:m`, 'last'));
    const verified = await pool.ask('verified', () => ({ cmd: 'verify', last }));
    const resumed = dropped.reduce((n, d) => n + d.resumed, 0);
    const stormSeconds = Math.max(...dropped.map((d) => d.slowestMs)) / 1000;
    const lost = verified.reduce((n, v) => n + v.lost, 0);
    const duplicates = verified.reduce((n, v) => n + v.duplicates, 0);
    const snapshots = verified.reduce((n, v) => n + v.snapshots, 0);

    const ratio = load.rate / rawLoad.rate;
    const lines = [
      `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0].toFixed(1)}`,
      `clients: ${CLIENT_PROCESSES} processes; load phase ${CONNECTIONS} connections on ${CHANNELS} channels (fan-out ${CONNECTIONS / CHANNELS})`,
      '',
      '| side | deliveries/s (median) | per round | entry → frame p50 | p99 (at ' +
        fmt(RATE * (CONNECTIONS / CHANNELS)) +
        ' deliveries/s) | idle KB/conn |',
      '| --- | ---: | --- | ---: | ---: | ---: |',
      `| raw ws | ${fmt(rawLoad.rate)} | ${rawLoad.rates.map(fmt).join(' ')} | ${rawLoad.p50} ms | ${rawLoad.p99} ms | ${rawIdle.toFixed(1)} |`,
      `| notifications | ${fmt(load.rate)} | ${load.rates.map(fmt).join(' ')} | ${load.p50} ms | ${load.p99} ms | ${idle.toFixed(1)} |`,
      '',
      `storm: ${STORM} clients dropped at once, ${resumed} resumed, slowest after ${stormSeconds.toFixed(2)} s; ` +
        `publications lost ${lost}, duplicates ${duplicates}, snapshots ${snapshots}`,
      '',
      `realtime_ratio=${ratio.toFixed(2)} p99_ms=${load.p99} idle_kb_per_conn=${idle.toFixed(1)} storm_resume_s=${stormSeconds.toFixed(2)} storm_lost=${lost + (STORM - resumed)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    pool.stop();
    rawChild.kill('SIGKILL');
    const exited = new Promise((resolve) => app.child.once('exit', resolve));
    app.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    app.child.kill('SIGKILL');
    redis.disconnect();
    await Promise.all([redisServer.stop(), postgres.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:realtime failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
