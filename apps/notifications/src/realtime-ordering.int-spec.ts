import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { RealtimeClient, Subscription, WebSocketConstructor } from '@choreo/realtime-client';
import { PostgresServer, RedisServer, startPostgres, startRedis, waitFor } from '@choreo/testing';
import {
  appendEvents,
  LIFECYCLE,
  orderEvent,
  Replica,
  startReplica,
  trackingToken,
} from './testing/realtime-harness';

const ORDERS = 200;
const PER_CLIENT = 10;

describe('notifications: order under shuffled, duplicated input on 2 replicas', () => {
  let redisServer: RedisServer;
  let postgres: PostgresServer;
  let redis: Redis;
  let replicas: Replica[];
  const clients: RealtimeClient[] = [];

  beforeAll(async () => {
    [redisServer, postgres] = await Promise.all([startRedis(), startPostgres({ fsync: false })]);
    const databaseUrl = await postgres.createDatabase('notifications_ordering');
    redis = new Redis(redisServer.url);
    replicas = await Promise.all([0, 1].map(() => startReplica({ redisUrl: redisServer.url, databaseUrl })));
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
    redis?.disconnect();
    await Promise.all([redisServer?.stop(), postgres?.stop()]);
  });

  it('gives every subscriber each order sequence 1..n once, in order', async () => {
    const orderIds = Array.from({ length: ORDERS }, () => randomUUID());
    const seen = new Map<string, number[]>();
    const subscriptions: Subscription[] = [];
    for (let c = 0; c < ORDERS / PER_CLIENT; c++) {
      const client = new RealtimeClient({
        url: replicas[c % 2].wsUrl,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      clients.push(client);
      for (const orderId of orderIds.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT)) {
        const channel = `order:${orderId}`;
        seen.set(channel, []);
        subscriptions.push(
          client.subscribe(channel, {
            token: await trackingToken(orderId),
            onPublication: (p) => seen.get(channel)!.push(p.offset!),
          }),
        );
      }
    }
    await waitFor(
      'every subscription',
      async () => subscriptions.every((s) => s.state === 'subscribed'),
      30_000,
    );

    // Every lifecycle event, a third of them twice, shuffled across the stream.
    const events = orderIds.flatMap((id) => LIFECYCLE.map((_, i) => orderEvent(id, i + 1)));
    const withDuplicates = [...events, ...events.filter((_, i) => i % 3 === 0)];
    shuffle(withDuplicates);
    await appendEvents(redis, withDuplicates);

    await waitFor(
      'every order delivered to its subscriber',
      async () => [...seen.values()].every((offsets) => offsets.length >= LIFECYCLE.length),
      90_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show now
    const expected = LIFECYCLE.map((_, i) => i + 1);
    for (const [channel, offsets] of seen) expect([channel, offsets]).toEqual([channel, expected]);
    expect(subscriptions.map((s) => s.stats.duplicates + s.stats.gaps).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}
