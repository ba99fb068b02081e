import { decodeEnvelope } from '@choreo/contracts';
import { useSpecServers } from '@choreo/testing';
import type Redis from 'ioredis';
import { StreamPublisher } from './stream-publisher';
import { orderEvent } from './test-fixtures/events';

describe('StreamPublisher.publishScheduled (real Redis)', () => {
  const servers = useSpecServers({ redis: true });
  let redis: Redis;
  let other: Redis;

  beforeAll(() => {
    redis = servers.redisClient;
    other = servers.newRedisClient();
  });

  const scheduleOf = (name: string, count: number) =>
    Array.from({ length: count }, (_, n) => ({
      schedule: `${name}:due`,
      member: `step-${n}`,
      stream: `${name}:out`,
      event: orderEvent('kitchen.started', { n }, `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`),
    }));

  it('publishes each scheduled event once when two publishers race for all of them', async () => {
    const requests = scheduleOf('race', 300);
    await redis.zadd('race:due', ...requests.flatMap((r, n) => [n, r.member]));
    const [a, b] = [new StreamPublisher(redis), new StreamPublisher(other)];
    const batches = (publisher: StreamPublisher, reversed: boolean) => {
      const order = reversed ? [...requests].reverse() : requests;
      return Promise.all(
        Array.from({ length: 10 }, (_, i) => publisher.publishScheduled(order.slice(i * 30, i * 30 + 30))),
      ).then((replies) => replies.flat());
    };
    const [fromA, fromB] = await Promise.all([batches(a, false), batches(b, true)]);

    const entries = await redis.xrange('race:out', '-', '+');
    expect(entries).toHaveLength(300);
    const ids = entries.map(([, fields]) => decodeEnvelope(fields).id);
    expect(new Set(ids)).toEqual(new Set(requests.map((r) => r.event.id)));
    // Each event was appended by exactly one of the two, and the other was told it was gone.
    const won = [...fromA, ...fromB].filter((id) => id !== null);
    expect(won.sort()).toEqual(entries.map(([id]) => id).sort());
    expect(await redis.zcard('race:due')).toBe(0);
  });

  it('publishes nothing for a member that is not scheduled, and keeps the order of a batch', async () => {
    const [gone, first, second] = scheduleOf('order', 3);
    await redis.zadd('order:due', 1, first.member, 2, second.member);
    const replies = await new StreamPublisher(redis).publishScheduled([gone, first, second]);
    expect(replies[0]).toBeNull();
    const entries = await redis.xrange('order:out', '-', '+');
    expect(entries.map(([id]) => id)).toEqual(replies.slice(1));
    expect(entries.map(([, fields]) => decodeEnvelope(fields).id)).toEqual([first.event.id, second.event.id]);
  });

  it('keeps the event scheduled when its stream cannot take it, and says which stream', async () => {
    const [step] = scheduleOf('broken', 1);
    await redis.zadd('broken:due', 1, step.member);
    await redis.set('broken:out', 'not a stream');
    await expect(new StreamPublisher(redis).publishScheduled([step])).rejects.toThrow(
      /broken:out: WRONGTYPE/,
    );
    expect(await redis.zscore('broken:due', step.member)).toBe('1');
  });

  it('keeps the trace context the event carries', async () => {
    const [step] = scheduleOf('trace', 1);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await redis.zadd('trace:due', 1, step.member);
    await new StreamPublisher(redis).publishScheduled([{ ...step, event: { ...step.event, traceparent } }]);
    const [[, fields]] = await redis.xrange('trace:out', '-', '+');
    expect(decodeEnvelope(fields).traceparent).toBe(traceparent);
  });
});
