import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { Streams } from '@choreo/contracts';
import { cpuTicks } from '../bench-server';

// What bench:e2e reads of the system under test besides the frames: stream entry times, handler
// failures, CPU time, and whether it has settled between rates.

/** Event id → the milliseconds of its `orders` entry id, for entries since `fromMs`. */
export async function streamedAt(redis: Redis, fromMs: number): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  let start = `${fromMs}-0`;
  for (;;) {
    const entries = await redis.xrange(Streams.orders, start, '+', 'COUNT', 5000);
    for (const [entryId, fields] of entries) {
      const at = fields.indexOf('id');
      if (at >= 0 && at % 2 === 0) times.set(fields[at + 1], Number(entryId.split('-')[0]));
    }
    if (entries.length < 5000) return times;
    start = `(${entries[entries.length - 1][0]}`;
  }
}

/** CPU seconds so far of each process (pid → its part: `postgresql`, `redis`, an app, `runner`, `load`). */
export type CpuSeconds = Map<number, { part: string; seconds: number }>;

const APPS = ['crud', 'events', 'cdc-relay', 'aggregator', 'notifications', 'simulator'];

/**
 * CPU seconds used so far by every process below this one, by part (from /proc): the load processes
 * (`load`), PostgreSQL's processes, redis-server, each app, the stack runner; the baseline's relay is
 * left out.
 */
export function cpuSeconds(loadPids: number[], baselinePid?: number): CpuSeconds {
  const descendants = (pid: number): number[] => {
    let children: number[] = [];
    try {
      children = execFileSync('pgrep', ['-P', String(pid)])
        .toString()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      // no children
    }
    return children.flatMap((child) => [child, ...descendants(child)]);
  };
  const partOf = (pid: number): string => {
    if (loadPids.includes(pid)) return 'load';
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return 'runner';
    }
    const app = APPS.find((name) => cmdline.includes(`apps/${name}/src/main.ts`));
    if (app) return app;
    if (cmdline.startsWith('postgres') || cmdline.includes('/postgres')) return 'postgresql';
    if (cmdline.includes('redis-server')) return 'redis';
    return 'runner';
  };
  const processes: CpuSeconds = new Map();
  for (const pid of descendants(process.pid)) {
    if (pid === baselinePid) continue;
    // USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s on Linux.
    processes.set(pid, { part: partOf(pid), seconds: (cpuTicks(pid) ?? 0) / 100 });
  }
  return processes;
}

/**
 * CPU ms by part between two readings, per `orders`: each process still running counts what it used
 * since `before` (all of it if it started since); a process that exited meanwhile is left out.
 */
export function cpuMsPerOrder(before: CpuSeconds, after: CpuSeconds, orders: number): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const [pid, { part, seconds }] of after) {
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    parts[part] = (parts[part] ?? 0) + (used * 1000) / Math.max(1, orders);
  }
  return parts;
}

/**
 * `orders` events whose notifications handler failed so far (from its /metrics): almost all are an
 * event handled before its predecessor (the consumer runs 32 at once), left pending and retried.
 */
export async function failedOrderEvents(notificationsUrl: string): Promise<number> {
  const text = await (await fetch(`${notificationsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (line) => line.startsWith('choreo_stream_events_failed_total{') && line.includes('stream="orders"'),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until no order is in flight (every order delivered or cancelled) and every consumer group of
 * the choreography's streams has read and acknowledged everything, so a rate does not start on the
 * previous one's backlog. False when that has not happened within `timeoutMs`.
 */
export async function settle(pool: Pool, redis: Redis, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from orders where status not in ('delivered', 'cancelled')",
    );
    let busy = rows[0].n > 0;
    for (const stream of [Streams.orders, Streams.kitchen, Streams.couriers]) {
      if (busy) break;
      const groups = (await redis.xinfo('GROUPS', stream).catch(() => [])) as (string | number)[][];
      for (const group of groups) {
        const field = (name: string) => Number(group[group.indexOf(name) + 1] ?? 0);
        if (field('pending') > 0 || field('lag') > 0) busy = true;
      }
    }
    if (!busy) return true;
    if (Date.now() > until) return false;
    await sleep(500);
  }
}
