import { fieldMap, Streams } from '@choreo/contracts';
import { useSpecServers, waitFor } from '@choreo/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import {
  StreamConsumer,
  StreamConsumerOptions,
  StreamEventContext,
  StreamEventHandler,
} from './stream-consumer';
import { StreamPublisher } from './stream-publisher';
import { trimConsumedEntries } from './stream-trimming';
import { deleteIdleConsumers } from './consumer-pruning';
import { orderEvent } from './test-fixtures/events';

const servers = useSpecServers({ redis: true });
let redis: Redis;
let publisher: StreamPublisher;
const running: StreamConsumer[] = [];
let streamSeq = 0;

beforeAll(() => {
  redis = servers.redisClient;
  publisher = new StreamPublisher(redis);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

/** A fresh stream per test, so tests never see each other's entries or dead letters. */
function freshStream(): { stream: string; deadLetters: string } {
  streamSeq += 1;
  return { stream: `orders-${streamSeq}`, deadLetters: `${Streams.deadLetters}-${streamSeq}` };
}

async function createConsumer(
  options: Partial<StreamConsumerOptions> & { streams: string[] },
  handlers: Record<string, StreamEventHandler>,
): Promise<StreamConsumer> {
  const sut = new StreamConsumer(
    {
      redisUrl: servers.redis.url,
      group: 'tracking',
      consumer: `tracking-${running.length + 1}`,
      blockMs: 200,
      claimIntervalMs: 50,
      claimTimeoutMs: 2_000,
      retry: { baseMs: 50, maxMs: 200, jitter: 0 },
      maxAttempts: 3,
      metricsIntervalMs: 0,
      registry: new Registry(),
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      ...options,
    },
    (type) => handlers[type],
  );
  await sut.start();
  running.push(sut);
  return sut;
}

async function pendingCount(stream: string, group = 'tracking'): Promise<number> {
  const [count] = (await redis.xpending(stream, group)) as [number];
  return Number(count);
}

async function lastDeliveredId(stream: string, group = 'tracking'): Promise<string | undefined> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  return groups.map((g) => fieldMap(g.map(String))).find((g) => g['name'] === group)?.['last-delivered-id'];
}

async function deadLettersOf(deadLetters: string): Promise<Record<string, string>[]> {
  return (await redis.xrange(deadLetters, '-', '+')).map(([, fields]) => fieldMap(fields));
}

describe('StreamConsumer', () => {
  it('hands each event with its context to the handler and acknowledges it', async () => {
    const { stream } = freshStream();
    const seen: StreamEventContext[] = [];
    const events = [
      orderEvent('order.created', { orderId: 'a' }),
      orderEvent('order.created', { orderId: 'b' }),
    ];
    const entryIds = await publisher.publishBatch(events.map((event) => ({ stream, event })));
    await createConsumer({ streams: [stream] }, { 'order.created': (_e, ctx) => void seen.push(ctx) });

    await waitFor('both handled', async () => seen.length === 2, 10_000);
    await waitFor('nothing pending', async () => (await pendingCount(stream)) === 0, 5_000);
    expect(seen.map((ctx) => [ctx.entryId, ctx.event.id, ctx.deliveryCount, ctx.group, ctx.stream])).toEqual([
      [entryIds[0], events[0].id, 1, 'tracking', stream],
      [entryIds[1], events[1].id, 1, 'tracking', stream],
    ]);
  });

  it('retries a failing handler with XAUTOCLAIM and applies it once when it succeeds on the third delivery', async () => {
    const { stream } = freshStream();
    const deliveries: number[] = [];
    const effects: string[] = [];
    const event = orderEvent('order.created');
    await publisher.publish(stream, event);
    await createConsumer(
      { streams: [stream] },
      {
        'order.created': (e, ctx) => {
          deliveries.push(ctx.deliveryCount);
          if (ctx.deliveryCount < 3) throw new Error(`flaky dependency, delivery ${ctx.deliveryCount}`);
          effects.push(e.id);
        },
      },
    );

    await waitFor('applied', async () => effects.length === 1, 10_000);
    await waitFor('nothing pending', async () => (await pendingCount(stream)) === 0, 5_000);
    expect(deliveries).toEqual([1, 2, 3]);
    expect(effects).toEqual([event.id]);
  });

  it('dead-letters an always failing entry once after maxAttempts, with every field, and leaves nothing pending', async () => {
    const { stream, deadLetters } = freshStream();
    const event = orderEvent('order.created', { orderId: 'poison', total: 12.5 });
    const entryId = await publisher.publish(stream, event);
    let attempts = 0;
    const registry = new Registry();
    await createConsumer(
      { streams: [stream], deadLetterStream: deadLetters, consumer: 'tracking-poison', registry },
      {
        'order.created': () => {
          attempts += 1;
          throw new Error('payment service says no');
        },
      },
    );

    await waitFor('dead-lettered', async () => (await redis.xlen(deadLetters)) === 1, 10_000);
    await waitFor('nothing pending', async () => (await pendingCount(stream)) === 0, 5_000);
    const [deadLetter] = await deadLettersOf(deadLetters);
    const original = fieldMap((await redis.xrange(stream, entryId, entryId))[0][1]);
    expect(deadLetter).toMatchObject({
      ...original,
      dlq_stream: stream,
      dlq_id: entryId,
      dlq_group: 'tracking',
      dlq_consumer: 'tracking-poison',
      dlq_attempts: '3',
      dlq_error: 'payment service says no',
    });
    expect(new Date(deadLetter['dlq_failed_at']).toISOString()).toBe(deadLetter['dlq_failed_at']);
    expect(attempts).toBe(3);
    // Nothing comes back after the dead-lettering: still exactly one dead letter a while later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.xlen(deadLetters)).toBe(1);
    expect(attempts).toBe(3);
    const exposition = await registry.metrics();
    const labels = `stream="${stream}",group="tracking"`;
    expect(exposition).toContain(`choreo_stream_events_failed_total{${labels},type="order.created"} 3`);
    expect(exposition).toContain(`choreo_stream_events_retried_total{${labels}} 2`);
    expect(exposition).toContain(
      `choreo_stream_events_dead_lettered_total{${labels},reason="max_attempts"} 1`,
    );
    expect(exposition).toContain(
      `choreo_stream_handler_duration_seconds_count{${labels},type="order.created"} 3`,
    );
  });

  it('dead-letters an undecodable entry at once without calling a handler', async () => {
    const { stream, deadLetters } = freshStream();
    const entryId = await redis.xadd(stream, '*', 'type', 'order.created', 'data', '{not json');
    const handled: string[] = [];
    await createConsumer(
      { streams: [stream], deadLetterStream: deadLetters },
      {
        'order.created': (e) => void handled.push(e.id),
      },
    );

    await waitFor('dead-lettered', async () => (await redis.xlen(deadLetters)) === 1, 10_000);
    const [deadLetter] = await deadLettersOf(deadLetters);
    expect(deadLetter).toMatchObject({
      type: 'order.created',
      data: '{not json',
      dlq_id: entryId,
      dlq_attempts: '1',
    });
    expect(deadLetter['dlq_error']).toMatch(/field "id" is missing/);
    expect(handled).toEqual([]);
    expect(await pendingCount(stream)).toBe(0);
  });

  it('acknowledges a pending entry deleted from the stream, as XAUTOCLAIM reports it, without dead-lettering it', async () => {
    const { stream, deadLetters } = freshStream();
    const entryId = await publisher.publish(stream, orderEvent('order.created'));
    let attempts = 0;
    await createConsumer(
      { streams: [stream], deadLetterStream: deadLetters, retry: { baseMs: 300, maxMs: 300, jitter: 0 } },
      {
        'order.created': () => {
          attempts += 1;
          throw new Error('not yet');
        },
      },
    );
    await waitFor(
      'failed once, pending',
      async () => attempts === 1 && (await pendingCount(stream)) === 1,
      5_000,
    );
    await redis.xdel(stream, entryId);

    await waitFor('no longer pending', async () => (await pendingCount(stream)) === 0, 5_000);
    expect(attempts).toBe(1);
    expect(await redis.xlen(deadLetters)).toBe(0);
  });

  it('acknowledges an entry whose type has no handler', async () => {
    const { stream } = freshStream();
    const registry = new Registry();
    const entryId = await publisher.publish(stream, orderEvent('order.archived'));
    await createConsumer({ streams: [stream], registry }, {});

    await waitFor(
      'acked',
      async () => (await lastDeliveredId(stream)) === entryId && (await pendingCount(stream)) === 0,
      10_000,
    );
    const metric = await registry.getSingleMetricAsString('choreo_stream_events_unhandled_total');
    expect(metric).toContain(
      `choreo_stream_events_unhandled_total{stream="${stream}",group="tracking",type="order.archived"} 1`,
    );
  });

  it('applies an event id delivered twice once when dedupe is on', async () => {
    const { stream } = freshStream();
    const event = orderEvent('order.created');
    const [, secondId] = await publisher.publishBatch([
      { stream, event },
      { stream, event },
    ]);
    const effects: string[] = [];
    const registry = new Registry();
    await createConsumer(
      { streams: [stream], dedupe: true, registry },
      {
        'order.created': (e) => void effects.push(e.id),
      },
    );

    await waitFor(
      'both entries acknowledged',
      async () => (await lastDeliveredId(stream)) === secondId && (await pendingCount(stream)) === 0,
      10_000,
    );
    expect(effects).toEqual([event.id]);
    expect(await registry.getSingleMetricAsString('choreo_stream_events_duplicate_total')).toContain(
      `{stream="${stream}",group="tracking",type="order.created"} 1`,
    );
  });

  it('keeps the claim of a long-running handler so a second consumer does not run it too', async () => {
    const { stream } = freshStream();
    const starts: string[] = [];
    let finished = 0;
    const slow: StreamEventHandler = async (_e, ctx) => {
      starts.push(ctx.consumer);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      finished += 1;
    };
    await publisher.publish(stream, orderEvent('order.created'));
    await createConsumer({ streams: [stream], claimTimeoutMs: 300 }, { 'order.created': slow });
    await waitFor('first consumer started', async () => starts.length === 1, 5_000);
    await createConsumer({ streams: [stream], claimTimeoutMs: 300 }, { 'order.created': slow });

    await waitFor('finished', async () => finished === 1, 10_000);
    await waitFor('nothing pending', async () => (await pendingCount(stream)) === 0, 5_000);
    expect(starts).toHaveLength(1);
  });

  it('spreads a backlog over several streams with at most `concurrency` handlers at once', async () => {
    const orders = freshStream().stream;
    const couriers = freshStream().stream;
    const requests = Array.from({ length: 60 }, (_, i) => ({
      stream: i % 2 ? orders : couriers,
      event: orderEvent('order.created', { n: i }),
    }));
    await publisher.publishBatch(requests);
    let running = 0;
    let peak = 0;
    const handled = new Set<string>();
    await createConsumer(
      { streams: [orders, couriers], concurrency: 4, batchSize: 25 },
      {
        'order.created': async (e) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
          handled.add(e.id);
        },
      },
    );

    await waitFor('all handled', async () => handled.size === 60, 15_000);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  });

  it('samples pending, lag and oldest pending age', async () => {
    const { stream } = freshStream();
    const registry = new Registry();
    await publisher.publishBatch([1, 2, 3, 4, 5].map(() => ({ stream, event: orderEvent('order.created') })));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sut = await createConsumer(
      { streams: [stream], registry, batchSize: 2, concurrency: 2 },
      {
        'order.created': () => gate,
      },
    );
    try {
      // The batch in hand and the one read ahead: four delivered and unacknowledged, one not delivered.
      await waitFor('four pending', async () => (await pendingCount(stream)) === 4, 5_000);
      await sut.sampleGroupMetrics();
      const labels = `{stream="${stream}",group="tracking"}`;
      expect(await registry.getSingleMetricAsString('choreo_stream_group_pending')).toContain(`${labels} 4`);
      expect(await registry.getSingleMetricAsString('choreo_stream_group_lag')).toContain(`${labels} 1`);
      expect(await registry.getSingleMetricAsString('choreo_stream_group_oldest_pending_seconds')).toMatch(
        new RegExp(`${labels.replace(/[{}]/g, '\\$&')} \\d`),
      );
    } finally {
      release();
    }
  });

  it('finishes and acknowledges the batch in hand when stopped, and reads nothing more', async () => {
    const { stream } = freshStream();
    await publisher.publishBatch([1, 2, 3].map(() => ({ stream, event: orderEvent('order.created') })));
    const finished: string[] = [];
    let started = 0;
    const sut = await createConsumer(
      { streams: [stream], batchSize: 3, concurrency: 3 },
      {
        'order.created': async (e) => {
          started += 1;
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished.push(e.id);
        },
      },
    );
    await waitFor('the batch is running', async () => started === 3, 5_000);
    await sut.stop();
    expect(finished).toHaveLength(3);
    expect(await pendingCount(stream)).toBe(0);

    await publisher.publish(stream, orderEvent('order.created'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started).toBe(3);
  });

  it('removes itself from the group on stop only when it owns nothing pending', async () => {
    const { stream } = freshStream();
    await publisher.publish(stream, orderEvent('order.created'));
    const happy = await createConsumer(
      { streams: [stream], consumer: 'tracking-happy' },
      { 'order.created': () => undefined },
    );
    await waitFor(
      'acked',
      async () =>
        ((await redis.xinfo('CONSUMERS', stream, 'tracking')) as unknown[]).length === 1 &&
        (await pendingCount(stream)) === 0,
      5_000,
    );
    await happy.stop();
    expect(await redis.xinfo('CONSUMERS', stream, 'tracking')).toEqual([]);

    await publisher.publish(stream, orderEvent('order.created'));
    const failing = await createConsumer(
      { streams: [stream], consumer: 'tracking-failing', claimIntervalMs: 60_000 },
      {
        'order.created': () => {
          throw new Error('down');
        },
      },
    );
    await waitFor('pending on the failing consumer', async () => (await pendingCount(stream)) === 1, 5_000);
    await failing.stop();
    const consumers = (await redis.xinfo('CONSUMERS', stream, 'tracking')) as unknown[][];
    expect(consumers.map((c) => fieldMap(c.map(String))['name'])).toEqual(['tracking-failing']);
  });
});

describe('StreamConsumer start', () => {
  it('fails, naming the cause, when a stream key holds something else', async () => {
    await redis.set('not-a-stream', 'x');
    const sut = new StreamConsumer(
      {
        redisUrl: servers.redis.url,
        group: 'tracking',
        streams: ['not-a-stream'],
        metricsIntervalMs: 0,
        registry: new Registry(),
      },
      () => undefined,
    );
    await expect(sut.start()).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('deleteIdleConsumers', () => {
  it('removes consumers that are idle and own nothing, and keeps those with pending entries', async () => {
    const { stream } = freshStream();
    await publisher.publish(stream, orderEvent('order.created'));
    await redis.xgroup('CREATE', stream, 'kitchen', '0');
    await redis.xgroup('CREATECONSUMER', stream, 'kitchen', 'kitchen-gone');
    await redis.xreadgroup('GROUP', 'kitchen', 'kitchen-gone-with-work', 'COUNT', 1, 'STREAMS', stream, '>');
    await new Promise((resolve) => setTimeout(resolve, 250));
    await redis.xgroup('CREATECONSUMER', stream, 'kitchen', 'kitchen-fresh');

    expect(await deleteIdleConsumers(redis, stream, 'kitchen', { minIdleMs: 200 })).toEqual(['kitchen-gone']);
    const left = ((await redis.xinfo('CONSUMERS', stream, 'kitchen')) as unknown[][]).map(
      (c) => fieldMap(c.map(String))['name'],
    );
    expect(left.sort()).toEqual(['kitchen-fresh', 'kitchen-gone-with-work']);
  });
});

describe('trimConsumedEntries', () => {
  it('never drops what a lagging group has not acknowledged', async () => {
    const { stream } = freshStream();
    const ids = await publisher.publishBatch(
      Array.from({ length: 10 }, () => ({ stream, event: orderEvent('order.created') })),
    );
    await redis.xgroup('CREATE', stream, 'fast', '0');
    await redis.xgroup('CREATE', stream, 'lagging', '0');
    // fast: everything read and acked. lagging: read 6, acked only the first 3, so 4..6 are pending.
    await redis.xreadgroup('GROUP', 'fast', 'f', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xack(stream, 'fast', ...ids);
    await redis.xreadgroup('GROUP', 'lagging', 'l', 'COUNT', 6, 'STREAMS', stream, '>');
    await redis.xack(stream, 'lagging', ...ids.slice(0, 3));

    const result = await trimConsumedEntries(redis, stream);
    expect(result).toEqual({ minId: ids[3], trimmed: 3 });
    expect((await redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(ids.slice(3));

    // Once lagging acknowledges everything it read, its last-delivered id (entry 6) is the floor.
    await redis.xack(stream, 'lagging', ...ids.slice(3, 6));
    expect(await trimConsumedEntries(redis, stream)).toEqual({ minId: ids[5], trimmed: 2 });
    const rest = (await redis.xreadgroup('GROUP', 'lagging', 'l', 'COUNT', 10, 'STREAMS', stream, '>')) as [
      string,
      [string, string[]][],
    ][];
    expect(rest[0][1].map(([id]) => id)).toEqual(ids.slice(6));
  });

  it('leaves a stream without groups alone', async () => {
    const { stream } = freshStream();
    await publisher.publish(stream, orderEvent('order.created'));
    expect(await trimConsumedEntries(redis, stream)).toEqual({ minId: undefined, trimmed: 0 });
    expect(await redis.xlen(stream)).toBe(1);
  });
});
