import { percentile } from '../../demo/demo-stats';
import { fmt } from '../bench-stats';
import type { PhaseSamples } from './e2e-protocol';

/** The p99 a rate must stay under to count as held. */
export const P99_TARGET_MS = 100;

/** Latency figures of one series, ms (undefined: no sample). */
export interface Latency {
  count: number;
  p50?: number;
  p99?: number;
  max?: number;
}

/** One fixed rate, summarized. */
export interface PhaseResult {
  rate: number;
  samples: PhaseSamples;
  firstFrame: Latency;
  lifecycle: Latency;
  location: Latency;
  postAnswer: Latency;
  subscribe: Latency;
  /** Lifecycle events split at their `orders` stream entry: stamp → XADD (commit, WAL, relay), XADD → frame. */
  stampToStream: Latency;
  streamToFrame: Latency;
  /** The worse of the first-frame and lifecycle p99 (Infinity when either has no sample). */
  worstP99: number;
  /** Every order placed and finished within the drain. */
  keptUp: boolean;
  /** Kept up with the worse p99 under P99_TARGET_MS. */
  held: boolean;
  loadAverage: string;
  /** notifications handler failures on `orders` during the phase (an event before its predecessor). */
  gapRetries?: number;
  /** CPU ms per order placed, by part: `load` (the load processes), `postgresql`, `redis`, each app … */
  cpuMsPerOrder?: Record<string, number>;
  /** The baseline hop (XADD → bare XREAD loop → ws) at the frame rate of the phase, right after it. */
  rawHop?: Latency;
  /** A one-line progress summary. */
  line: string;
}

export function latency(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1],
  };
}

const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)}`);
const triple = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.max)}`;

/**
 * Percentiles and the verdict of one rate; `streamedAt` maps an event id to the time of its `orders`
 * stream entry (the entry id's milliseconds, Redis' clock on this same machine).
 */
export function summarizePhase(
  rate: number,
  samples: PhaseSamples,
  streamedAt: ReadonlyMap<string, number>,
  loadAverage: string,
): PhaseResult {
  const firstFrame = latency(samples.firstFrame);
  const lifecycle = latency(samples.lifecycle.map(([, stamped, arrived]) => arrived - stamped));
  const location = latency(samples.location);
  const postAnswer = latency(samples.postAnswer);
  const subscribe = latency(samples.subscribe);
  const split = samples.lifecycle.flatMap(([id, stamped, arrived]) => {
    const at = streamedAt.get(id);
    return at === undefined ? [] : [[at - stamped, arrived - at]];
  });
  const stampToStream = latency(split.map(([a]) => a));
  const streamToFrame = latency(split.map(([, b]) => b));
  const worstP99 = Math.max(firstFrame.p99 ?? Infinity, lifecycle.p99 ?? Infinity);
  const keptUp =
    samples.refused === 0 &&
    samples.placed === samples.scheduled &&
    samples.finished === samples.placed &&
    samples.subscriptionErrors === 0;
  const held = keptUp && worstP99 < P99_TARGET_MS;
  const line =
    `${rate}/s: first frame p50/p99 ${ms(firstFrame.p50)}/${ms(firstFrame.p99)} ms, ` +
    `lifecycle p50/p99 ${ms(lifecycle.p50)}/${ms(lifecycle.p99)} ms (${fmt(lifecycle.count)} events), ` +
    `${samples.finished}/${samples.placed} finished, ${samples.refused} refused, ` +
    `send lag max ${Math.round(samples.maxSendLagMs)} ms → ${held ? 'held' : 'not held'}` +
    (samples.firstError ? ` (${samples.firstError})` : '');
  return {
    rate,
    samples,
    firstFrame,
    lifecycle,
    location,
    postAnswer,
    subscribe,
    stampToStream,
    streamToFrame,
    worstP99,
    keptUp,
    held,
    loadAverage,
    line,
  };
}

export interface E2eRun {
  started: Date;
  results: PhaseResult[];
  seconds: number;
  speed: number;
  workers: number;
  connections: number;
  /** Rates skipped because the system had not settled after the previous one. */
  notRun: number[];
  settleSeconds: number;
  node: string;
  cpus: number;
  loadAtEnd: string;
}

/** CPU ms per order of the system under test: every part but the load processes. */
export function systemCpu(parts: Record<string, number>): number {
  return Object.entries(parts).reduce((sum, [part, ms]) => (part === 'load' ? sum : sum + ms), 0);
}

/** `notifications 9.1, postgresql 7.0, …`: the system's parts, largest first. */
function cpuBreakdown(parts: Record<string, number>): string {
  return Object.entries(parts)
    .filter(([part]) => part !== 'load')
    .sort(([, a], [, b]) => b - a)
    .map(([part, ms]) => `${part} ${ms.toFixed(1)}`)
    .join(', ');
}

/** What the CPU per order of the lowest rate whose orders all finished says about the machine's ceiling. */
function capacityNote(run: E2eRun): string[] {
  const measured = run.results.find((r) => r.keptUp && r.cpuMsPerOrder);
  if (!measured?.cpuMsPerOrder) return [];
  const perOrder = systemCpu(measured.cpuMsPerOrder);
  const ceiling = (run.cpus * 1000) / perOrder;
  return [
    `At ${perOrder.toFixed(1)} ms of CPU per order (measured at ${measured.rate}/s, every order finished), the ` +
      `system alone keeps all ${run.cpus} cores busy at about ${Math.round(ceiling)} orders/s, before the load ` +
      'processes and anything else on the machine: queues, and so p99, grow well before that rate.',
    '',
  ];
}

/** The e2e section of docs/benchmarks.md: how it was measured, the table, the anchors. */
export function formatE2eSection(run: E2eRun): string {
  const rows = run.results.map((r) =>
    [
      `| ${r.rate}`,
      fmt(r.samples.placed),
      `${fmt(r.samples.finished)}${r.samples.refused ? ` (${fmt(r.samples.refused)} refused)` : ''}`,
      triple(r.firstFrame),
      triple(r.lifecycle),
      fmt(r.lifecycle.count),
      `${Math.round(r.samples.maxSendLagMs)}`,
      r.loadAverage,
      `${r.held ? '**held**' : r.keptUp ? 'p99 over' : 'fell behind'} |`,
    ].join(' | '),
  );
  const split = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)}`;
  const whereRows = run.results.map(
    (r) =>
      `| ${r.rate} | ${split(r.postAnswer)} | ${split(r.subscribe)} | ${split(r.firstFrame)} | ${split(r.stampToStream)} | ` +
      `${split(r.streamToFrame)} | ${split(r.location)} | ${r.rawHop ? split(r.rawHop) : '–'} | ` +
      `${r.gapRetries ?? '–'} | ` +
      `${r.cpuMsPerOrder ? `${systemCpu(r.cpuMsPerOrder).toFixed(1)} / ${(r.cpuMsPerOrder['load'] ?? 0).toFixed(1)}` : '–'} |`,
  );
  const held = run.results.filter((r) => r.held).map((r) => r.rate);
  return [
    `\`npm run bench:e2e\` — ${run.started.toISOString().slice(0, 16)}Z, ${run.cpus} cores, Node ${run.node}; ` +
      `everything on this machine: its own PostgreSQL (fsync on) and redis-server (AOF, appendfsync always) as ` +
      `\`npm start\` runs them, every app under \`npm start\`'s runner (LOG_LEVEL=warn, SIM_SPEED=${run.speed}); ` +
      `${run.workers} load processes × ${run.connections} WebSocket connections (the workspace's realtime client); ` +
      `each rate held ${run.seconds} s after a 10/s warm-up, once the previous rate's orders had all finished and ` +
      'every consumer group had caught up.',
    '',
    '- **first frame**: the scheduled send time of `POST /orders` (open loop: each POST leaves at its slot, so a slow ' +
      'answer cannot hide later ones) → the tracking client, subscribed to `order:<id>` with the token the POST ' +
      'returned, receives its first frame carrying the order (the `order.created` publication, live or replayed).',
    "- **lifecycle event**: an `order.*` event's envelope `time` — stamped by the events app inside the transaction " +
      'that moves the order, just before it commits — → its publication frame at the client, for every frame pushed ' +
      'live (offset above what the `subscribed` reply said the client held). Its path: commit → WAL → cdc-relay → ' +
      '`orders` stream → notifications (read model, channel history, sharded pub/sub) → WebSocket.',
    "- **courier.location**: the simulator's publish time → its frame; no PostgreSQL on that path (stream → " +
      'notifications → WebSocket), shown to tell the two halves apart.',
    '- A rate is **held** when every order was placed and reached `delivered`/`cancelled` within the drain, and the ' +
      `worse of the first-frame and lifecycle p99 is under ${P99_TARGET_MS} ms. Send lag: how late the load ` +
      'processes themselves sent a POST after its slot (counted in the latencies).',
    '',
    '| orders/s | placed | finished | first frame p50 / p99 / max ms | lifecycle event → frame p50 / p99 / max ms | lifecycle frames | send lag max ms | load avg | verdict |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    'Where the time goes (p50 / p99 ms): the first frame against the POST alone (from its slot) and the ' +
      'subscribe round trip after it (the 201 → the `subscribed` reply); each lifecycle event split at its ' +
      "`orders` stream entry (the entry id is Redis' clock at XADD): stamp → entry is the rest of the transaction, " +
      "its commit, logical decoding and the relay's append; entry → frame is the notifications consumer (read " +
      'model write, channel publish script, sharded pub/sub) and the WebSocket. Retries: `orders` entries whose ' +
      'notifications handler failed (its /metrics) — an event handled before its predecessor (the consumer runs ' +
      '32 entries at once) is left pending and retried 100 ms–2 s later, in p99 if it happens often. CPU: user + ' +
      'system time of every process of the system (PostgreSQL, Redis, the apps) and of the load processes over ' +
      'the phase and its drain, per order placed; the cores divided by it bound the rate any run can hold here. ' +
      'Baseline: the same Redis, entries XADDed at the frame rate the phase produced (open loop, timed from ' +
      'their slot) and relayed by a bare `XREAD BLOCK` loop to plain `ws` sockets (no group, ack, read model, ' +
      'history or token; tools/src/bench/e2e/raw-stream-ws.ts), for 10 s right after the phase, the system idle.',
    '',
    '| orders/s | POST answered | answer → subscribed | first frame | lifecycle: stamp → `orders` entry | `orders` entry → frame | courier.location → frame | baseline: XADD → bare XREAD → ws | notifications retries on `orders` | CPU ms per order: system / load |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...whereRows,
    '',
    'CPU ms per order by part of the system:',
    '',
    ...run.results.map((r) => `- ${r.rate}/s: ${r.cpuMsPerOrder ? cpuBreakdown(r.cpuMsPerOrder) : '–'}`),
    '',
    ...capacityNote(run),
    ...(run.notRun.length
      ? [
          `Not run: ${run.notRun.join(', ')} orders/s — the system had not finished the previous rate's orders ` +
            `and caught up within ${run.settleSeconds} s.`,
          '',
        ]
      : []),
    `Highest rate held with p99 < ${P99_TARGET_MS} ms: **${held.length ? `${Math.max(...held)} orders/s` : 'none'}**.`,
    '',
    'Published anchors (broker → subscriber only, no database on the path): Supabase Realtime p99 213 ms; ' +
      'Centrifugo p99 200 ms. The lifecycle figure above includes a PostgreSQL commit and logical decoding ' +
      'on top of that path.',
    '',
    `Load average at the end: ${run.loadAtEnd}.`,
  ].join('\n');
}
