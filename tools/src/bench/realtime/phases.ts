import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';
import { median } from '../bench-stats';
import { benchChannels } from './bench-protocol';
import type { ClientPool } from './client-pool';
import { addTallies, StormTally } from './storm-accounting';
import { emitToStream } from './stream-emitter';

/** One server under test: where clients connect, its process, and how to make it publish. */
export interface Side {
  name: 'notifications' | 'raw ws';
  wsUrl: string;
  child: ChildProcess;
  emit(channels: string[], events: number, rate: number): Promise<void>;
}

export interface LoadOptions {
  connections: number;
  channels: number;
  burstEvents: number;
  rounds: number;
  /** Events a second in the latency phase, for `latencySeconds`. */
  rate: number;
  latencySeconds: number;
}

export interface LoadResult {
  /** Median deliveries a second over the burst rounds, and each round's. */
  rate: number;
  rates: number[];
  p50: number;
  p99: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
/** TcpExt ListenOverflows of the whole machine (Linux /proc/net/netstat). */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines.find((l) => l.startsWith('TcpExt:'))?.split(' ') ?? [];
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? 0);
}
const rssKb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/**
 * (a) Burst deliveries a second, the two sides taking turns round by round (the machine's load
 * moves; a round of each side back to back sees about the same), then entry → frame latency at a
 * steady rate, one side after the other. The ratio is the median of the rounds' ratios.
 */
export async function measureLoad(
  sides: { raw: Side; notifications: Side },
  pool: ClientPool,
  o: LoadOptions,
): Promise<{ raw: LoadResult; notifications: LoadResult; ratio: number }> {
  const fanout = o.connections / o.channels;
  const both = [sides.raw, sides.notifications];
  const channels = new Map<Side, string[]>();
  for (const side of both) {
    const prefix = `load-${side === sides.raw ? 'raw' : 'n'}-${Date.now()}`;
    channels.set(side, benchChannels(prefix, o.channels));
    await pool.connect(side.wsUrl, o.connections, channels.get(side) ?? []);
  }
  const rates = new Map<Side, number[]>(both.map((side) => [side, []]));
  for (let round = 0; round < o.rounds; round++) {
    for (const side of both) {
      pool.tell({ cmd: 'reset' });
      const started = Date.now();
      await side.emit(channels.get(side) ?? [], o.burstEvents, 0);
      const report = await delivered(pool, `${side.name} burst`, o.burstEvents * fanout, 120_000);
      rates.get(side)?.push(report.frames / ((report.lastAt - started) / 1000));
    }
  }
  const latency = new Map<Side, { p50: number; p99: number }>();
  for (const side of both) {
    pool.tell({ cmd: 'reset' });
    await side.emit(channels.get(side) ?? [], o.rate * o.latencySeconds, o.rate);
    const report = await delivered(pool, `${side.name} paced`, o.rate * o.latencySeconds * fanout, 60_000);
    const sorted = report.latencies.sort((a, b) => a - b);
    latency.set(side, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) });
  }
  await pool.closeAll();
  const result = (side: Side): LoadResult => {
    const sideRates = rates.get(side) ?? [];
    return { rate: median(sideRates), rates: sideRates, p50: NaN, p99: NaN, ...latency.get(side) };
  };
  const rawRates = rates.get(sides.raw) ?? [];
  const ratios = (rates.get(sides.notifications) ?? []).map((rate, i) => rate / rawRates[i]);
  return { raw: result(sides.raw), notifications: result(sides.notifications), ratio: median(ratios) };
}

/** Waits until the clients hold `expected` publications; fails saying how many arrived. */
async function delivered(pool: ClientPool, what: string, expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await pool.reports();
    if (report.frames >= expected) return report;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: ${report.frames} of ${expected} publications delivered in ${timeoutMs} ms; ` +
          `connections closed by the server: ${report.closes.join(', ') || 'none'}`,
      );
    await sleep(200);
  }
}

/** (b) Server RSS growth per connection over `count` idle connections, each subscribed to a channel. */
export async function idleKbPerConnection(side: Side, pool: ClientPool, count: number): Promise<number> {
  await sleep(1000);
  const before = rssKb(side.child.pid);
  await pool.connect(side.wsUrl, count, benchChannels('idle', 100));
  await sleep(3000);
  const after = rssKb(side.child.pid);
  await pool.closeAll();
  return (after - before) / count;
}

export interface StormResult extends StormTally {
  /** Seconds from the drop until the last client resumed (the wait limit when some never did). */
  resumeSeconds: number;
  /** Seconds until half, and 99 %, of the clients had resumed. */
  resumeP50: number;
  resumeP99: number;
  /** The machine's TCP listen-queue overflows during the storm (connections the kernel dropped). */
  listenOverflows: number;
  /** Channels whose last offset in Redis differs from the events the bench emitted to them. */
  channelsOff: number;
}

/** Publications go on at one per channel each tick, before, during and after the drop. */
const STORM_TICK_MS = 500;
const RESUME_WAIT_MS = 60_000;

/**
 * (c) `clients` resumable clients, ten a channel, all dropped at once while publications go on. One
 * channel in ten gets its first publication only after everybody resumed (a resume on a channel
 * with no epoch yet). The truth is what the bench emitted to each channel (offsets 1..n on a fresh
 * channel), not what the server says it published, so a publication it never made shows as lost.
 */
export async function runStorm(
  wsUrl: string,
  pool: ClientPool,
  redis: Redis,
  clients: number,
): Promise<StormResult> {
  const channels = benchChannels(`storm-${Date.now()}`, Math.max(1, Math.ceil(clients / 10)));
  await pool.connect(wsUrl, clients, channels, true);
  const emitted = new Map(channels.map((channel) => [channel, 0]));
  let active = channels.filter((_, i) => i % 10 !== 9);
  let emitting = true;
  const emitter = (async () => {
    while (emitting) {
      const tick = active;
      await emitToStream(redis, tick, tick.length, 0);
      for (const channel of tick) emitted.set(channel, (emitted.get(channel) ?? 0) + 1);
      await sleep(STORM_TICK_MS);
    }
  })();
  await sleep(3000);
  const overflowsBefore = listenOverflows();
  const dropped = await pool.ask('dropped', () => ({ cmd: 'drop', waitMs: RESUME_WAIT_MS }));
  const overflows = listenOverflows() - overflowsBefore;
  active = channels;
  await sleep(2000); // and after everybody is back
  emitting = false;
  await emitter;
  const last = Object.fromEntries(emitted);
  const verified = await pool.ask('verified', () => ({ cmd: 'verify', last, waitMs: 30_000 }));
  let channelsOff = 0;
  for (const channel of channels)
    if (Number(await redis.hget(`rt:{${channel}}:m`, 'last')) !== emitted.get(channel)) channelsOff++;
  await pool.closeAll();
  const tally = addTallies(verified.map((v) => v.tally));
  const allBack = dropped.every((d) => d.resumed === d.clients);
  const after = dropped.flatMap((d) => d.resumedAfterMs).sort((a, b) => a - b);
  return {
    ...tally,
    resumeSeconds: allBack ? (after.at(-1) ?? 0) / 1000 : RESUME_WAIT_MS / 1000,
    resumeP50: percentile(after, 50) / 1000,
    resumeP99: percentile(after, 99) / 1000,
    listenOverflows: overflows,
    channelsOff,
  };
}
