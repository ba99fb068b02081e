import { EventEnvelope, fieldMap, Streams } from '@choreo/contracts';
import { StreamConsumer, StreamPublisher } from '@choreo/streams';
import { useSpecServers, waitFor } from '@choreo/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { runDlq } from './dlq.command';

const servers = useSpecServers({ redis: true });
let redis: Redis;
beforeAll(() => {
  redis = servers.redisClient;
});

async function dlq(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDlq(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, servers.redis.url);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run dlq', () => {
  it('lists, shows and replays a dead letter, which a consumer then processes with the same event id', async () => {
    const stream = 'orders';
    let paymentServiceUp = false;
    const applied: { id: string; deliveryCount: number }[] = [];
    const consumer = new StreamConsumer(
      {
        redisUrl: servers.redis.url,
        group: 'billing',
        streams: [stream],
        blockMs: 200,
        claimIntervalMs: 50,
        maxAttempts: 2,
        retry: { baseMs: 20, maxMs: 50, jitter: 0 },
        metricsIntervalMs: 0,
        registry: new Registry(),
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      },
      () => (event, ctx) => {
        if (!paymentServiceUp) throw new Error('payment service unavailable');
        applied.push({ id: event.id, deliveryCount: ctx.deliveryCount });
      },
    );
    await consumer.start();
    try {
      const event: EventEnvelope = {
        id: '019a0000-0000-7000-8000-000000000007',
        type: 'order.created',
        source: 'events',
        subject: 'o-7',
        time: new Date().toISOString(),
        data: { orderId: 'o-7', total: 42 },
      };
      const entryId = await new StreamPublisher(redis).publish(stream, event);
      await waitFor('dead-lettered', async () => (await redis.xlen(Streams.deadLetters)) === 1, 10_000);
      const [[deadLetterId]] = await redis.xrange(Streams.deadLetters, '-', '+');

      const listed = await dlq('list');
      expect(listed.code).toBe(0);
      expect(listed.out.split('\n')[0]).toMatch(/^ID\s+STREAM\s+TYPE\s+ATTEMPTS\s+ERROR\s+FAILED AT$/);
      expect(listed.out).toMatch(
        new RegExp(`${deadLetterId}\\s+orders\\s+order.created\\s+2\\s+payment service unavailable`),
      );
      expect((await dlq('list', '--stream', 'couriers')).out).toBe('no dead letters from couriers');

      const shown = await dlq('show', '--id', deadLetterId);
      expect(shown.out).toMatch(new RegExp(`^dlq_id +${entryId}$`, 'm'));
      expect(shown.out).toContain('"total": 42');

      paymentServiceUp = true;
      const replayed = await dlq('replay', '--id', deadLetterId);
      expect(replayed.code).toBe(0);
      expect(replayed.out).toContain('1 replayed');
      await waitFor('processed after replay', async () => applied.length === 1, 10_000);
      expect(applied).toEqual([{ id: event.id, deliveryCount: 1 }]);
      expect(await redis.xlen(Streams.deadLetters)).toBe(0);
      const [, replayedFields] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0];
      expect(Object.keys(fieldMap(replayedFields)).filter((name) => name.startsWith('dlq_'))).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('purges only with --yes, and only the selected stream with --all --stream', async () => {
    for (const origin of ['orders', 'orders', 'couriers']) {
      await redis.xadd(
        Streams.deadLetters,
        '*',
        'id',
        'e',
        'type',
        'x',
        'dlq_stream',
        origin,
        'dlq_error',
        'boom',
      );
    }
    const refused = await dlq('purge', '--all', '--stream', 'orders');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/would delete 2 dead letter\(s\).*--yes/);
    expect(await redis.xlen(Streams.deadLetters)).toBe(3);

    const purged = await dlq('purge', '--all', '--stream', 'orders', '--yes');
    expect(purged).toMatchObject({ code: 0, out: '2 purged' });
    const left = await redis.xrange(Streams.deadLetters, '-', '+');
    expect(left.map(([, f]) => fieldMap(f)['dlq_stream'])).toEqual(['couriers']);
  });

  it('explains its usage', async () => {
    expect(await dlq('--help')).toMatchObject({ code: 0 });
    expect((await dlq('--help')).out).toContain('Usage: npm run dlq');
    expect(await dlq('frobnicate')).toMatchObject({ code: 2 });
    expect((await dlq('show')).err).toContain('show needs --id');
    expect((await dlq('replay')).code).toBe(2);
  });
});
