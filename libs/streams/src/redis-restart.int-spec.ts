import { useSpecServers, waitFor } from '@choreo/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamConsumer } from './stream-consumer';
import { StreamPublisher } from './stream-publisher';
import { orderEvent } from './test-fixtures/events';

const servers = useSpecServers({ redis: { appendOnly: true } });

describe('a Redis killed and restarted mid-run', () => {
  it('the consumer reconnects and handles every event, before and after the crash', async () => {
    const stream = 'orders-restart';
    const redis = new Redis(servers.redis.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    const publisher = new StreamPublisher(redis);
    const before = Array.from({ length: 300 }, (_, n) => orderEvent('order.created', { n }));
    await publisher.publishBatch(before.map((event) => ({ stream, event })));

    const handled = new Set<string>();
    const sut = new StreamConsumer(
      {
        redisUrl: servers.redis.url,
        group: 'notifications',
        streams: [stream],
        batchSize: 20,
        blockMs: 200,
        claimIntervalMs: 100,
        claimTimeoutMs: 1_000,
        metricsIntervalMs: 0,
        registry: new Registry(),
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      },
      () => async (event) => {
        await sleep(2);
        handled.add(event.id);
      },
    );
    await sut.start();
    try {
      await waitFor('part of the backlog handled', async () => handled.size >= 50, 30_000);
      await servers.redis.kill('SIGKILL');
      expect(handled.size).toBeLessThan(before.length);
      await sleep(300);
      await servers.redis.restart();

      const after = Array.from({ length: 100 }, (_, n) => orderEvent('order.created', { n: 300 + n }));
      await publisher.publishBatch(after.map((event) => ({ stream, event })));
      const all = [...before, ...after];
      await waitFor(
        'every event handled and nothing pending',
        async () =>
          all.every((e) => handled.has(e.id)) &&
          Number(((await redis.xpending(stream, 'notifications')) as [number])[0]) === 0,
        60_000,
      );
    } finally {
      await sut.stop();
      await redis.quit();
    }
  }, 120_000);
});
