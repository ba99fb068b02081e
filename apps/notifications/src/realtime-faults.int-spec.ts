import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { RealtimeClient, Subscription, WebSocketConstructor } from '@choreo/realtime-client';
import { PostgresServer, RedisServer, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { channelKeys } from './channels/channel-keys';
import {
  appendEvents,
  LIFECYCLE,
  orderEvent,
  Replica,
  startReplica,
  trackingToken,
} from './testing/realtime-harness';

const ORDERS = 100;
const CLIENTS = 200;
const EMIT_SECONDS = 36;

interface Tracked {
  client: RealtimeClient;
  subscription: Subscription;
  offsets: number[];
  droppedAt?: number;
}

describe('notifications: resume under faults (2 replicas, replica SIGKILL, Redis SIGKILL + AOF restart)', () => {
  let redisServer: RedisServer;
  let postgres: PostgresServer;
  let redis: Redis;
  let replicas: Replica[];
  const tracked: Tracked[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    [redisServer, postgres] = await Promise.all([startRedis(), startPostgres({ fsync: false })]);
    const databaseUrl = await postgres.createDatabase('notifications_faults');
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    replicas = await Promise.all([0, 1].map(() => startReplica({ redisUrl: redisServer.url, databaseUrl })));
  });

  afterAll(async () => {
    for (const timer of timers) clearTimeout(timer);
    for (const t of tracked) t.client.close();
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
    redis?.disconnect();
    await Promise.all([redisServer?.stop(), postgres?.stop()]);
  });

  it('every client holds every sequence of its order exactly once, in order', async () => {
    const orderIds = Array.from({ length: ORDERS }, () => randomUUID());
    const live = () => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    const resumeMs: number[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const orderId = orderIds[i % ORDERS];
      const entry = { offsets: [] as number[] } as Tracked;
      entry.client = new RealtimeClient({
        // Any live replica: resume works on any of them (no sticky sessions).
        url: () => live()[Math.floor(Math.random() * live().length)].wsUrl,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        backoff: { minMs: 50, maxMs: 1000 },
      });
      entry.subscription = entry.client.subscribe(`order:${orderId}`, {
        token: await trackingToken(orderId),
        onPublication: (p) => entry.offsets.push(p.offset!),
        // A snapshot (a resume that found the history not yet written) replaces what the client
        // holds with the read model's timeline: it holds those events from then on.
        onSnapshot: (s) => {
          const timeline = (s.data as { timeline?: { sequence: number }[] } | null)?.timeline ?? [];
          entry.offsets = timeline.map((e) => e.sequence);
        },
        onSubscribed: () => {
          if (entry.droppedAt !== undefined) resumeMs.push(Date.now() - entry.droppedAt);
          entry.droppedAt = undefined;
        },
      });
      tracked.push(entry);
    }
    await waitFor(
      'clients subscribed',
      async () => tracked.every((t) => t.subscription.state === 'subscribed'),
      30_000,
    );

    // Each client drops its connection every 1–3 s until the events are all out.
    let emitting = true;
    for (const entry of tracked) {
      const dropLater = () => {
        const timer = setTimeout(
          () => {
            if (!emitting) return;
            if (entry.droppedAt === undefined) entry.droppedAt = Date.now();
            entry.client.drop();
            dropLater();
          },
          1000 + Math.random() * 2000,
        );
        timers.push(timer);
      };
      dropLater();
    }

    // A steady load: each order's lifecycle spread over the emit window, interleaved with the others.
    const schedule = orderIds.flatMap((id) => LIFECYCLE.map((_, i) => ({ id, sequence: i + 1 })));
    const perTick = Math.ceil(schedule.length / (EMIT_SECONDS * 10));
    const faults = { replicaKilledAt: 0, redisKilledAt: 0 };
    const started = Date.now();
    for (let tick = 0; tick * perTick < schedule.length; tick++) {
      // Sequence n of an order goes out only after n - 1 (a producer's order), ticks 100 ms apart.
      const slice = nextSlice(schedule, tick, perTick, orderIds.length);
      await appendWithRetry(
        redis,
        slice.map((s) => orderEvent(s.id, s.sequence)),
      );
      const elapsed = Date.now() - started;
      if (!faults.replicaKilledAt && elapsed > 10_000) {
        faults.replicaKilledAt = elapsed;
        await replicas[0].kill('SIGKILL');
      }
      if (!faults.redisKilledAt && elapsed > 22_000) {
        faults.redisKilledAt = elapsed;
        await redisServer.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 1000));
        await redisServer.restart();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    emitting = false;
    expect(faults.replicaKilledAt).toBeGreaterThan(0);
    expect(faults.redisKilledAt).toBeGreaterThan(0);

    await waitFor(
      'every client complete',
      async () => tracked.every((t) => t.offsets.length >= LIFECYCLE.length),
      60_000,
      200,
    ).catch(async (error: Error) => {
      const stuck = tracked.filter((t) => t.offsets.length < LIFECYCLE.length).slice(0, 5);
      const details = await Promise.all(
        stuck.map(async (t) => ({
          channel: t.subscription.channel,
          offsets: t.offsets,
          state: [t.client.state, t.subscription.state],
          published: await redis.hget(channelKeys(t.subscription.channel).meta, 'last'),
        })),
      );
      throw new Error(`${error.message}: ${JSON.stringify(details)}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    const expected = LIFECYCLE.map((_, i) => i + 1);
    const wrong = tracked.filter((t) => JSON.stringify(t.offsets) !== JSON.stringify(expected));
    expect(wrong.map((t) => [t.subscription.channel, t.offsets])).toEqual([]);
    const stats = tracked.map((t) => t.subscription.stats);
    const sum = (key: keyof Subscription['stats']) => stats.reduce((n, s) => n + s[key], 0);
    resumeMs.sort((a, b) => a - b);
    const pct = (p: number) =>
      resumeMs[Math.min(resumeMs.length - 1, Math.floor((p / 100) * resumeMs.length))];
    process.stdout.write(
      `resume under faults: ${resumeMs.length} resumes, latency p50 ${pct(50)} ms, p99 ${pct(99)} ms; ` +
        `server-sent duplicates ${sum('duplicates')}, gaps ${sum('gaps')}, snapshots ${sum('snapshots')}; ` +
        `replica SIGKILL at ${faults.replicaKilledAt} ms, Redis SIGKILL at ${faults.redisKilledAt} ms\n`,
    );
    expect(resumeMs.length).toBeGreaterThan(CLIENTS * 5);
    // The server repairs its own gaps and never sends a connection the same offset twice.
    expect(sum('duplicates')).toBe(0);
    expect(sum('gaps')).toBe(0);
  });
});

/** The tick-th slice of the schedule: orders advance one step at a time, round-robin. */
function nextSlice(
  schedule: { id: string; sequence: number }[],
  tick: number,
  perTick: number,
  orders: number,
): { id: string; sequence: number }[] {
  // Position k in emit order is order (k mod orders) at step floor(k / orders) + 1.
  const slice: { id: string; sequence: number }[] = [];
  for (let k = tick * perTick; k < Math.min(schedule.length, (tick + 1) * perTick); k++) {
    const order = k % orders;
    const step = Math.floor(k / orders);
    slice.push(schedule[order * LIFECYCLE.length + step]);
  }
  return slice;
}

async function appendWithRetry(redis: Redis, events: ReturnType<typeof orderEvent>[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await appendEvents(redis, events);
      return;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
