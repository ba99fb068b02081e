import { useSpecServers, waitFor } from '@choreo/testing';
import type Redis from 'ioredis';
import { Registry } from 'prom-client';
import { applyDeadLetterRetention } from './dead-letter-retention';
import { StreamConsumer, StreamConsumerOptions } from './stream-consumer';
import { orderEvent } from './test-fixtures/events';
import { StreamPublisher } from './stream-publisher';

const servers = useSpecServers({ redis: true });
const DAY_MS = 86_400_000;
const WINDOW_MS = 14 * DAY_MS;
const running: StreamConsumer[] = [];
let redis: Redis;
let seq = 0;

beforeAll(() => {
  redis = servers.redisClient;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

/** The Redis server's clock in ms: the clock that stamps entry ids and that retention measures by. */
async function redisNowMs(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Appends dead letters dead-lettered `ageMs` ago (ids are times), returns their ids. */
async function addDeadLetters(stream: string, ageMs: number, count: number): Promise<string[]> {
  const at = (await redisNowMs()) - ageMs;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await redis.xadd(stream, `${at}-${i}`, 'dlq_stream', 'orders', 'dlq_error', 'boom')) as string);
  }
  return ids;
}

async function ids(stream: string): Promise<string[]> {
  return (await redis.xrange(stream, '-', '+')).map(([id]) => id);
}

const failing = () => {
  throw new Error('courier service says no');
};

async function createConsumer(options: Partial<StreamConsumerOptions>): Promise<StreamConsumer> {
  seq += 1;
  const sut = new StreamConsumer(
    {
      redisUrl: servers.redis.url,
      group: 'events',
      consumer: `events-${seq}`,
      streams: [`couriers-${seq}`],
      blockMs: 200,
      metricsIntervalMs: 0,
      registry: new Registry(),
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      ...options,
    },
    () => failing,
  );
  await sut.start();
  running.push(sut);
  return sut;
}

/** One sample of a metric of `registry` for the dead-letter stream `stream`. */
async function sample(registry: Registry, name: string, stream: string): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels['stream'] === stream)?.value;
}

describe('dead-letter retention', () => {
  it('deletes dead letters older than the window, keeps younger ones even past the length bound, and reports both figures', async () => {
    const deadLetters = `dead-letters-${++seq}`;
    const expired = [
      ...(await addDeadLetters(deadLetters, 30 * DAY_MS, 3)),
      ...(await addDeadLetters(deadLetters, WINDOW_MS + 60_000, 2)), // a minute past the window
    ];
    const young = [
      ...(await addDeadLetters(deadLetters, WINDOW_MS - 60_000, 2)), // a minute inside it
      ...(await addDeadLetters(deadLetters, DAY_MS, 4)),
      ...(await addDeadLetters(deadLetters, 0, 2)),
    ];
    const registry = new Registry();
    const warnings: string[] = [];
    await createConsumer({
      deadLetterStream: deadLetters,
      // Eight young entries against a bound of five: the bound alarms, it never deletes.
      deadLetterRetention: { maxAgeMs: WINDOW_MS, alertLength: 5, intervalMs: 100 },
      registry,
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });

    // Through the consumer's own loop, not a direct call: the loop is what runs in production.
    await waitFor(
      'the expired dead letters deleted',
      async () => (await redis.xlen(deadLetters)) === young.length,
      5_000,
    );
    expect(await ids(deadLetters)).toEqual(young);
    await waitFor(
      'the gauges sampled',
      async () => (await sample(registry, 'choreo_dead_letters_length', deadLetters)) === young.length,
      5_000,
    );
    const oldestAge = await sample(registry, 'choreo_dead_letters_oldest_age_seconds', deadLetters);
    expect(oldestAge).toBeGreaterThanOrEqual((WINDOW_MS - 60_000) / 1000);
    expect(oldestAge).toBeLessThan(WINDOW_MS / 1000);
    expect(await sample(registry, 'choreo_dead_letters_expired_total', deadLetters)).toBe(expired.length);
    expect(await sample(registry, 'choreo_dead_letters_alert_length', deadLetters)).toBe(5);
    expect(await sample(registry, 'choreo_dead_letters_retention_seconds', deadLetters)).toBe(
      WINDOW_MS / 1000,
    );
    // Several passes ran by now; over the bound all along, so warned once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warnings.filter((w) => w.includes('over its bound'))).toHaveLength(1);
    expect(await ids(deadLetters)).toEqual(young);
  });

  it('keeps a dead letter a failing handler just produced, and the text exposition carries both gauges', async () => {
    const stream = `couriers-${++seq}`;
    const deadLetters = `dead-letters-${seq}`;
    await addDeadLetters(deadLetters, 20 * DAY_MS, 1);
    const registry = new Registry();
    await new StreamPublisher(redis).publish(stream, orderEvent('courier.picked_up'));
    await createConsumer({
      streams: [stream],
      maxAttempts: 1,
      deadLetterStream: deadLetters,
      deadLetterRetention: { maxAgeMs: WINDOW_MS, alertLength: 0, intervalMs: 100 },
      registry,
    });

    await waitFor(
      'only the fresh dead letter left',
      async () => {
        const entries = await redis.xrange(deadLetters, '-', '+');
        return entries.length === 1 && entries[0][1].includes(stream);
      },
      5_000,
    );
    await waitFor(
      'the gauges follow',
      async () => (await sample(registry, 'choreo_dead_letters_length', deadLetters)) === 1,
      5_000,
    );
    const text = await registry.metrics();
    expect(text).toContain(`choreo_dead_letters_length{stream="${deadLetters}"} 1`);
    expect(text).toMatch(
      new RegExp(`choreo_dead_letters_oldest_age_seconds\\{stream="${deadLetters}"\\} \\d`),
    );
  });

  it('keeps everything with a window of 0, and reports 0 for an empty or missing stream', async () => {
    const deadLetters = `dead-letters-${++seq}`;
    expect(await applyDeadLetterRetention(redis, deadLetters, WINDOW_MS)).toEqual({
      expired: 0,
      length: 0,
      oldestAgeSeconds: 0,
    });
    const kept = await addDeadLetters(deadLetters, 400 * DAY_MS, 2);
    const result = await applyDeadLetterRetention(redis, deadLetters, 0);
    expect(result).toMatchObject({ expired: 0, length: 2 });
    expect(result.oldestAgeSeconds).toBeGreaterThanOrEqual((400 * DAY_MS) / 1000);
    expect(await ids(deadLetters)).toEqual(kept);
  });

  it('is harmless when several replicas apply it at once', async () => {
    const deadLetters = `dead-letters-${++seq}`;
    await addDeadLetters(deadLetters, 20 * DAY_MS, 50);
    const young = await addDeadLetters(deadLetters, DAY_MS, 10);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => applyDeadLetterRetention(redis, deadLetters, WINDOW_MS)),
    );
    expect(results.reduce((sum, r) => sum + r.expired, 0)).toBe(50);
    expect(results.map((r) => r.length)).toEqual([10, 10, 10, 10]);
    expect(await ids(deadLetters)).toEqual(young);
  });

  it('a consumer without deadLetterRetention leaves the dead-letter stream alone', async () => {
    const deadLetters = `dead-letters-${++seq}`;
    const old = await addDeadLetters(deadLetters, 30 * DAY_MS, 3);
    const consumer = await createConsumer({ deadLetterStream: deadLetters });
    await expect(consumer.applyDeadLetterRetention()).rejects.toThrow('no deadLetterRetention');
    expect(await ids(deadLetters)).toEqual(old);
  });
});
