import { useSpecServers, waitFor } from '@choreo/testing';
import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Registry } from 'prom-client';
import { StreamConsumer } from './stream-consumer';
import { StreamPublisher } from './stream-publisher';
import { orderEvent } from './test-fixtures/events';

const repoRoot = path.resolve(__dirname, '../../..');
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

const servers = useSpecServers({ redis: true });
let redis: Redis;
beforeAll(() => {
  redis = servers.redisClient;
});

function spawnConsumer(env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'libs/streams/src/test-fixtures/crash-consumer.ts'],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

describe('a consumer killed mid-batch', () => {
  it('loses nothing: a second consumer takes over its pending entries and finishes every event', async () => {
    const stream = 'orders-crash';
    const publisher = new StreamPublisher(redis);
    const events = Array.from({ length: 300 }, (_, n) => orderEvent('order.created', { n }));
    await publisher.publishBatch(events.map((event) => ({ stream, event })));

    const child = spawnConsumer({
      REDIS_URL: servers.redis.url,
      STREAM: stream,
      GROUP: 'kitchen',
      CONSUMER: 'kitchen-doomed',
    });
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    try {
      await waitFor(
        'the child handled part of the backlog',
        async () => (await redis.scard(`effects:${stream}`)) >= 40,
        60_000,
      );
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    expect(child.signalCode).toBe('SIGKILL');
    const doneByChild = await redis.scard(`effects:${stream}`);
    const [pendingOnCrash] = (await redis.xpending(stream, 'kitchen')) as [number];
    // The kill landed mid-batch: entries delivered to the dead consumer and never acknowledged.
    expect(Number(pendingOnCrash)).toBeGreaterThan(0);
    expect(doneByChild).toBeLessThan(events.length);

    const effects = new Redis(servers.redis.url);
    const survivor = new StreamConsumer(
      {
        redisUrl: servers.redis.url,
        group: 'kitchen',
        consumer: 'kitchen-survivor',
        streams: [stream],
        blockMs: 200,
        claimIntervalMs: 100,
        claimTimeoutMs: 1_000,
        metricsIntervalMs: 0,
        registry: new Registry(),
        logger: quiet,
      },
      () => async (event) => {
        await effects.multi().sadd(`effects:${stream}`, event.id).incr(`runs:${stream}`).exec();
      },
    );
    await survivor.start();
    try {
      await waitFor(
        'every event handled and nothing pending',
        async () =>
          (await redis.scard(`effects:${stream}`)) === events.length &&
          Number(((await redis.xpending(stream, 'kitchen')) as [number])[0]) === 0,
        60_000,
      );
    } finally {
      await survivor.stop();
      await effects.quit();
    }
    const handled = new Set(await redis.smembers(`effects:${stream}`));
    expect(events.filter((e) => !handled.has(e.id))).toEqual([]);
    // At least once: some events may have run twice (effect done, ack lost in the crash), never zero times.
    expect(Number(await redis.get(`runs:${stream}`))).toBeGreaterThanOrEqual(events.length);
  }, 120_000);
});
