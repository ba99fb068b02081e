import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { Streams } from '@choreo/contracts';
import type { PostgresServer, RedisServer } from '@choreo/testing';
import { waitFor } from '@choreo/testing';
import type { AppName, LiveStack } from '../e2e/live-stack';
import { OrderTrackers } from './order-trackers';
import { compareAggregates, ReportRow } from './aggregate-check';
import { judgeTimelines, TimelineVerdict } from './timeline-check';

export interface SoakOptions {
  stack: LiveStack;
  redis: RedisServer;
  postgres: PostgresServer;
  /** A pool on the stack's database and a client on its Redis (both survive restarts). */
  pool: Pool;
  redisClient: Redis;
  /** How long orders are placed and chaos runs. */
  durationMs: number;
  /** Orders placed per second. */
  rate: number;
  /** WebSocket clients tracking the orders. */
  clients: number;
  /** A fault every this often (app SIGKILL, Redis SIGKILL + restart, PostgreSQL restart). */
  chaosEveryMs: number;
  /** How long the system gets to settle after the last order (default 180 s). */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  rows: ReportRow[];
  ok: boolean;
  /** What it did: orders placed, faults injected (in order), client connections dropped. */
  placed: number;
  faults: string[];
  drops: number;
  failures: string[];
  timelines: TimelineVerdict;
}

/**
 * What the soak's stack runs with besides SIM_SPEED. An aggregator source with no event for
 * AGGREGATOR_IDLE_MS lets its watermark follow the clock; after an outage longer than that plus a rule's
 * lateness (orders_per_minute: 10 s), events written before it arrive late and are recorded, not counted,
 * as designed. A minute keeps the soak's own outages (a restart under load takes up to ~20 s) inside it,
 * so its aggregates must equal SQL exactly.
 */
export const SOAK_STACK_ENV = { AGGREGATOR_IDLE_MS: '60000' };

const CHAOS_APPS: AppName[] = ['events', 'cdc-relay', 'aggregator', 'notifications', 'simulator', 'crud'];

/**
 * The whole system under chaos: orders at a steady rate, WebSocket clients following every order
 * and dropping their connections at random, apps SIGKILLed, Redis SIGKILLed and restarted (AOF),
 * PostgreSQL restarted. Then it lets the system settle and checks every promise.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const wsUrl = `${options.stack.urls.notifications.replace(/^http/, 'ws')}/ws`;
  const trackers = new OrderTrackers(wsUrl, options.stack.urls.events, options.clients);
  // Closed however the run ends: reconnecting clients left behind would keep the process alive.
  try {
    return await soakWith(trackers, options);
  } finally {
    trackers.close();
  }
}

async function soakWith(trackers: OrderTrackers, options: SoakOptions): Promise<SoakReport> {
  const { stack, pool, redisClient } = options;
  const log = options.log ?? (() => undefined);
  const auth = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
  const products = await createProducts(stack.urls.crud, auth);

  const counts = { placed: 0, retried: 0, chaos: [] as string[], poison: [] as string[] };
  const placedIds = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const placeOne = async (n: number) => {
    const key = randomUUID();
    const body = JSON.stringify({
      customer: `soak-${n % 50}`,
      address: `${n} Soak Street`,
      items: [{ product_id: products[n % products.length], quantity: 1 + (n % 3) }],
    });
    // The same Idempotency-Key on every retry: an order refused or lost mid-chaos is placed once.
    for (let attempt = 0; ; attempt++) {
      const reply = await fetch(`${stack.urls.events}/orders`, {
        method: 'POST',
        headers: { ...auth, 'idempotency-key': key },
        body,
      }).catch(() => undefined);
      if (reply?.status === 201) {
        const order = (await reply.json()) as { id: string; tracking: { token: string } };
        if (!placedIds.has(order.id)) trackers.track(order.id, order.tracking.token);
        placedIds.add(order.id);
        counts.placed++;
        return;
      }
      if (attempt > 600) throw new Error(`order ${n} not placed after ${attempt} attempts`);
      counts.retried++;
      await sleep(250);
    }
  };

  log(
    `soak: ${options.rate} orders/s for ${options.durationMs / 1000} s, ${options.clients} clients, a fault every ${options.chaosEveryMs / 1000} s`,
  );
  trackers.startDropping();
  const started = Date.now();
  let n = 0;
  let nextChaos = started + options.chaosEveryMs;
  counts.poison.push(await injectPoison(redisClient));
  while (Date.now() - started < options.durationMs) {
    const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
    while (n < due) {
      const p = placeOne(n++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (Date.now() >= nextChaos) {
      nextChaos = Date.now() + options.chaosEveryMs;
      const fault = await chaos(options, counts.chaos.length);
      counts.chaos.push(fault);
      log(`soak: ${fault} (${counts.placed} orders placed)`);
    }
    await sleep(50);
  }
  await Promise.all(inFlight);
  for (const app of CHAOS_APPS) await stack.ready(app, 120_000);
  log(`soak: ${counts.placed} orders placed; letting the system settle`);
  trackers.stopDropping();

  const drainMs = options.drainTimeoutMs ?? 180_000;
  const failures: string[] = [];
  const settle = async (what: string, probe: () => Promise<boolean>) => {
    try {
      await waitFor(what, probe, drainMs, 500);
    } catch (error) {
      failures.push((error as Error).message);
    }
  };
  const statuses = async () =>
    (
      await pool.query<{ status: string; n: string }>(
        "select status, count(*) as n from orders where customer like 'soak-%' group by status",
      )
    ).rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: Number(r.n) }), {});
  await settle('every order delivered or cancelled', async () => {
    const s = await statuses();
    return (s['delivered'] ?? 0) + (s['cancelled'] ?? 0) === placedIds.size;
  });
  const finals = new Map(
    (
      await pool.query<{ id: string; sequence: number }>(
        "select id, sequence from orders where customer like 'soak-%'",
      )
    ).rows.map((r) => [r.id, r.sequence]),
  );
  await settle('every client timeline complete', async () =>
    [...finals].every(([id, last]) => (trackers.received.get(id)?.at(-1) ?? 0) >= last),
  );
  const timelines = judgeTimelines(trackers.received, finals);
  const aggregates = await compareAggregates(stack.urls.aggregator, pool, settle);
  let pending = -1;
  await settle('nothing pending', async () => (pending = await pendingEntries(redisClient)) === 0);
  const dead = await deadLetters(redisClient);
  const unexpectedDead = dead.filter((d) => !counts.poison.includes(d));
  trackers.close();

  const s = await statuses();
  const rows: ReportRow[] = [
    [
      'orders placed',
      `${counts.placed} (${counts.retried} retries through faults)`,
      counts.placed === placedIds.size,
    ],
    [
      'delivered / cancelled',
      `${s['delivered'] ?? 0} / ${s['cancelled'] ?? 0}`,
      (s['delivered'] ?? 0) + (s['cancelled'] ?? 0) === placedIds.size,
    ],
    ['faults injected', summarize(counts.chaos), undefined],
    [
      'client connections dropped',
      `${trackers.drops} (${trackers.connects} connects, ${trackers.snapshots} snapshots)`,
      undefined,
    ],
    [
      'timelines complete',
      `${timelines.complete} / ${timelines.orders}`,
      timelines.complete === timelines.orders,
    ],
    [
      'timelines in order',
      `${timelines.inOrder} / ${timelines.orders}`,
      timelines.inOrder === timelines.orders,
    ],
    ['duplicate steps delivered', String(timelines.duplicates), timelines.duplicates === 0],
    ...aggregates,
    ['stream entries pending', String(pending), pending === 0],
    [
      'dead letters (poison injected)',
      `${dead.length} (${dead.length - unexpectedDead.length} of the poison)`,
      unexpectedDead.length === 0,
    ],
  ];
  failures.push(...timelines.examples);
  if (unexpectedDead.length)
    failures.push(`dead letters not injected: ${unexpectedDead.slice(0, 5).join(', ')}`);
  const ok = rows.every(([, , verdict]) => verdict !== false) && failures.length === 0;
  return {
    rows,
    ok,
    failures,
    timelines,
    placed: counts.placed,
    faults: counts.chaos,
    drops: trackers.drops,
  };
}

/** The table the soak prints. */
export function formatSoakReport(report: SoakReport): string {
  const width = Math.max(...report.rows.map(([what]) => what.length));
  const lines = report.rows.map(
    ([what, value, verdict]) =>
      `${what.padEnd(width)}  ${verdict === undefined ? '    ' : verdict ? 'ok  ' : 'FAIL'}  ${value}`,
  );
  return [...lines, ...report.failures.map((f) => `  ! ${f}`), report.ok ? 'soak: PASS' : 'soak: FAIL'].join(
    '\n',
  );
}

/** Three products with a million in stock each (`<label> noodles` …, categories `<label>-food` …); their ids. */
export async function createProducts(
  crudUrl: string,
  headers: Record<string, string>,
  label = 'soak',
): Promise<string[]> {
  const ids: string[] = [];
  for (const [name, category] of [
    [`${label} noodles`, `${label}-food`],
    [`${label} tea`, `${label}-drinks`],
    [`${label} cake`, `${label}-food`],
  ]) {
    const reply = await fetch(`${crudUrl}/crud/product`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name, price: '4.25', category, stock: 1_000_000 }),
    });
    if (reply.status !== 201) throw new Error(`creating ${name}: ${reply.status} ${await reply.text()}`);
    ids.push(((await reply.json()) as { id: string }).id);
  }
  return ids;
}

async function chaos(options: SoakOptions, round: number): Promise<string> {
  const pick = round % 4;
  if (pick === 1) {
    await options.redis.kill('SIGKILL');
    await options.redis.restart();
    return 'redis SIGKILL + restart';
  }
  if (pick === 3) {
    // A fast shutdown (rolls back open transactions), then a start. A SIGKILL here failed to restart
    // now and then: the dead postmaster's shared memory block was still in use.
    await options.postgres.kill('SIGINT');
    await options.postgres.restart();
    return 'postgresql restart';
  }
  const app = CHAOS_APPS[Math.floor(Math.random() * CHAOS_APPS.length)];
  options.stack.killApp(app);
  return `${app} SIGKILL`;
}

/** A stream entry no consumer can read (no envelope): it must end in dead-letters, and nothing else may. */
async function injectPoison(redis: Redis): Promise<string> {
  return (await redis.xadd(Streams.orders, '*', 'poison', 'not an event')) ?? '';
}

async function pendingEntries(redis: Redis): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000, 'TYPE', 'stream');
    cursor = next;
    for (const key of keys) {
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      for (const group of groups) total += Number(group[group.indexOf('pending') + 1]);
    }
  } while (cursor !== '0');
  return total;
}

async function deadLetters(redis: Redis): Promise<string[]> {
  const entries = await redis.xrange(Streams.deadLetters, '-', '+');
  return entries.map(([, fields]) => fields[fields.indexOf('dlq_id') + 1]);
}

function summarize(faults: string[]): string {
  const tally = new Map<string, number>();
  for (const f of faults) tally.set(f, (tally.get(f) ?? 0) + 1);
  return [...tally].map(([f, k]) => `${k}× ${f}`).join(', ') || 'none';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
