// npm run bench:e2e — the whole system on this machine (PostgreSQL, Redis and every app as `npm start`
// runs them), orders placed at fixed rates by separate load processes that track each order with the
// workspace's realtime client: POST /orders → the first frame, each lifecycle event → its frame.
import { ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { startPostgres, startRedis } from '@choreo/testing';
import { startLiveStack } from '../e2e/live-stack';
import { createProducts } from '../soak/soak';
import { fmt } from './bench-stats';
import { writeBenchmarkSection } from './streams/bench-section';
import type { FromLoad, LoadSetup, PhaseSamples, ToLoad } from './e2e/e2e-protocol';
import { RawHop } from './e2e/raw-hop';
import { cpuMsPerOrder, cpuSeconds, failedOrderEvents, settle, streamedAt } from './e2e/system-probes';
import { formatE2eSection, PhaseResult, summarizePhase } from './e2e/e2e-report';

const HELP = `npm run bench:e2e [-- options]

End-to-end latency of the whole choreo system on this machine: its own PostgreSQL and Redis (AOF,
fsync always, as npm start runs them) and every app under npm start's runner. Load processes place
orders on an open-loop schedule (each POST leaves at its slot, latency counted from the slot, so a slow
answer cannot hide later ones) and track every order over WebSocket with the realtime client.

Measured per fixed rate:
  first frame       the scheduled send of POST /orders → the client's first frame carrying the order
  lifecycle event   an order.* event's envelope time (stamped by the events app inside the transaction
                    that changes the order) → its publication frame at the client, for frames pushed
                    live (offset above what the subscribe reply said the client held)
  courier.location  the simulator's publish time → its frame (no PostgreSQL on that path; diagnostic)
A rate is held when every order is placed and reaches delivered/cancelled within the drain, and the
worse of the first-frame and lifecycle p99 is under 100 ms.

Options:
  --rates LIST      orders/s, comma separated (default 25,50,100,200)
  --seconds N       how long each rate is held (default 30)
  --drain N         seconds the last orders of a rate get to finish (default 60)
  --settle N        before each rate, wait up to N s for every order to finish and every consumer
                    group to catch up; if it does not, the higher rates are not run (default 120)
  --speed X         SIM_SPEED of the simulator (default 10: a journey of about 3–5 s)
  --workers N       load processes (default 2)
  --connections N   WebSocket connections per load process (default 50; more when the highest rate
                    would put over 90 orders in flight on one connection)
  --no-docs         do not rewrite the e2e section of docs/benchmarks.md
  -h, --help        show this help

Prints a table and, last, e2e_p99_ms_at_50=<x> max_rate_p99_under_100ms=<y>
(x: the worse of the two p99 at 50 orders/s; y: the highest rate held, 0 if none).
`;

const root = path.resolve(__dirname, '../../..');
const WARM_UP = { rate: 10, seconds: 5 };
const RAW_HOP_SECONDS = 10;

function options() {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '25,50,100,200' },
      seconds: { type: 'string', default: '30' },
      drain: { type: 'string', default: '60' },
      settle: { type: 'string', default: '120' },
      speed: { type: 'string', default: '10' },
      workers: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      process.stderr.write(`bench:e2e: --${name} must be a positive number, not ${text}\n`);
      process.exit(2);
    }
    return value;
  };
  return {
    rates: values.rates.split(',').map((r) => positive('rates', r.trim())),
    seconds: positive('seconds', values.seconds),
    drainSeconds: positive('drain', values.drain),
    settleSeconds: positive('settle', values.settle),
    speed: positive('speed', values.speed),
    workers: Math.round(positive('workers', values.workers)),
    connections: Math.round(positive('connections', values.connections)),
    writeDocs: !values['no-docs'],
  };
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const load = () => os.loadavg()[0].toFixed(1);

/** The load processes: each places and tracks its slots of every phase's schedule. */
class LoadProcesses {
  private readonly children: ChildProcess[];
  private readonly progress = new Map<number, { placed: number; finished: number; refused: number }>();

  constructor(count: number) {
    this.children = Array.from({ length: count }, () =>
      fork(path.join(__dirname, 'e2e/order-load.ts'), [], {
        execArgv: ['-r', '@swc-node/register'],
        cwd: root,
      }),
    );
    this.children.forEach((child, i) =>
      child.on('message', (message: FromLoad) => {
        if (message.kind === 'progress') this.progress.set(i, message);
      }),
    );
  }

  private ask<K extends FromLoad['kind']>(kind: K, message: (i: number) => ToLoad) {
    return Promise.all(
      this.children.map(
        (child, i) =>
          new Promise<Extract<FromLoad, { kind: K }>>((resolve, reject) => {
            const onExit = (code: number | null) => reject(new Error(`load process ${i} exited ${code}`));
            const listener = (reply: FromLoad) => {
              if (reply.kind !== kind) return;
              child.off('message', listener);
              child.off('exit', onExit);
              resolve(reply as Extract<FromLoad, { kind: K }>);
            };
            child.on('message', listener);
            child.once('exit', onExit);
            child.send(message(i));
          }),
      ),
    );
  }

  async setup(setup: LoadSetup): Promise<void> {
    await this.ask('ready', () => ({ cmd: 'setup', setup }));
  }

  /** Runs one phase on every process at once; logs progress every 5 s; merges their samples. */
  async phase(name: string, rate: number, seconds: number, drainSeconds: number): Promise<PhaseSamples> {
    this.progress.clear();
    const startAt = Date.now() + 500;
    const ticker = setInterval(() => {
      const all = [...this.progress.values()];
      const sum = (k: 'placed' | 'finished' | 'refused') => all.reduce((n, p) => n + p[k], 0);
      log(
        `  ${name}: ${fmt(sum('placed'))} placed, ${fmt(sum('finished'))} finished, ${sum('refused')} refused (load ${load()})`,
      );
    }, 5000);
    try {
      const replies = await this.ask('done', (worker) => ({
        cmd: 'phase',
        plan: {
          name,
          rate,
          durationMs: seconds * 1000,
          startAt,
          drainMs: drainSeconds * 1000,
          worker,
          workers: this.children.length,
        },
      }));
      return mergeSamples(replies.map((r) => r.samples));
    } finally {
      clearInterval(ticker);
    }
  }

  pids(): number[] {
    return this.children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}

function mergeSamples(all: PhaseSamples[]): PhaseSamples {
  const counts = (k: 'scheduled' | 'placed' | 'refused' | 'finished' | 'subscriptionErrors') =>
    all.reduce((n, s) => n + s[k], 0);
  return {
    firstFrame: all.flatMap((s) => s.firstFrame),
    postAnswer: all.flatMap((s) => s.postAnswer),
    subscribe: all.flatMap((s) => s.subscribe),
    lifecycle: all.flatMap((s) => s.lifecycle),
    location: all.flatMap((s) => s.location),
    scheduled: counts('scheduled'),
    placed: counts('placed'),
    refused: counts('refused'),
    finished: counts('finished'),
    subscriptionErrors: counts('subscriptionErrors'),
    maxSendLagMs: Math.max(...all.map((s) => s.maxSendLagMs)),
    firstError: all.find((s) => s.firstError)?.firstError,
  };
}

async function main(): Promise<void> {
  const opts = options();
  const started = new Date();
  log(`bench:e2e: starting PostgreSQL, Redis (AOF) and every app (SIM_SPEED=${opts.speed}); load ${load()}`);
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  const databaseUrl = await postgres.createDatabase('choreo');
  const stack = await startLiveStack({
    redisUrl: redis.url,
    databaseUrl,
    env: { SIM_SPEED: String(opts.speed), LOG_LEVEL: 'warn' },
  });
  const loadProcesses = new LoadProcesses(opts.workers);
  const redisClient = new Redis(redis.url);
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const rawHop = await RawHop.start(redis.url);
  try {
    const auth = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
    const productIds = await createProducts(stack.urls.crud, auth, 'e2e');
    // A connection takes at most 100 subscriptions (REALTIME_MAX_SUBSCRIPTIONS): enough connections for a
    // rate whose orders all stay in flight to the end of its phase.
    const ordersPerProcess = (Math.max(...opts.rates) * opts.seconds) / opts.workers;
    const connections = Math.max(opts.connections, Math.ceil(ordersPerProcess / 90));
    await loadProcesses.setup({
      eventsUrl: stack.urls.events,
      wsUrl: `${stack.urls.notifications.replace(/^http/, 'ws')}/ws`,
      apiToken: stack.token,
      productIds,
      connections,
    });
    log(`stack up; ${opts.workers} load processes × ${connections} connections; warm-up`);
    await loadProcesses.phase('warm-up', WARM_UP.rate, WARM_UP.seconds, opts.drainSeconds);

    const results: PhaseResult[] = [];
    const notRun: number[] = [];
    for (const rate of opts.rates) {
      if (notRun.length || !(await settle(pool, redisClient, opts.settleSeconds * 1000))) {
        if (!notRun.length) log(`the system has not settled after ${opts.settleSeconds} s: stopping here`);
        notRun.push(rate);
        continue;
      }
      log(`${rate} orders/s for ${opts.seconds} s`);
      const phaseFrom = Date.now();
      const failedBefore = await failedOrderEvents(stack.urls.notifications);
      const cpuBefore = cpuSeconds(loadProcesses.pids(), rawHop.pid);
      const samples = await loadProcesses.phase(`${rate}/s`, rate, opts.seconds, opts.drainSeconds);
      const result = summarizePhase(rate, samples, await streamedAt(redisClient, phaseFrom), load());
      result.gapRetries = (await failedOrderEvents(stack.urls.notifications)) - failedBefore;
      const cpuAfter = cpuSeconds(loadProcesses.pids(), rawHop.pid);
      result.cpuMsPerOrder = cpuMsPerOrder(cpuBefore, cpuAfter, samples.placed);
      const framesPerSecond =
        (samples.placed + result.lifecycle.count + result.location.count) / opts.seconds;
      result.rawHop = await rawHop.measure(framesPerSecond, RAW_HOP_SECONDS);
      results.push(result);
      log(`  ${result.line}`);
      log(
        `  baseline XADD → XREAD → ws at ${fmt(framesPerSecond)} frames/s: p50/p99 ${result.rawHop.p50}/${result.rawHop.p99} ms`,
      );
    }

    const at50 = results.find((r) => r.rate === 50);
    const held = results.filter((r) => r.held).map((r) => r.rate);
    const section = formatE2eSection({
      started,
      results,
      seconds: opts.seconds,
      speed: opts.speed,
      workers: opts.workers,
      connections,
      notRun,
      settleSeconds: opts.settleSeconds,
      node: process.version,
      cpus: os.cpus().length,
      loadAtEnd: load(),
    });
    process.stdout.write(`\n${section}\n`);
    if (opts.writeDocs) writeBenchmarkSection(path.join(root, 'docs/benchmarks.md'), 'e2e', section);
    const p99At50 = at50 ? String(Math.round(at50.worstP99)) : 'n/a';
    process.stdout.write(
      `e2e_p99_ms_at_50=${p99At50} max_rate_p99_under_100ms=${held.length ? Math.max(...held) : 0}\n`,
    );
  } finally {
    redisClient.disconnect();
    await pool.end();
    rawHop.stop();
    loadProcesses.stop();
    await stack.stop();
    await Promise.all([redis.stop(), postgres.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:e2e failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
