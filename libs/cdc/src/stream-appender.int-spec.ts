import Redis from 'ioredis';
import { useSpecServers } from '@choreo/testing';
import { fieldMap } from '@choreo/contracts';
import { formatPosition } from './position';
import { outboxEvent, RelayEvent, rowChangeEvent, transactionContext } from './relay-events';
import type { Pgoutput } from 'pg-logical-replication';
import { appendNewer, readHighWaterMark } from './stream-appender';

const event = (commitLsn: bigint, ordinal: number): RelayEvent => {
  const position = formatPosition({ commitLsn, ordinal });
  return { stream: 's', position, fields: ['id', `e-${commitLsn}-${ordinal}`, 'position', position] };
};

describe('appendNewer (the high-water-mark script, real Redis)', () => {
  const servers = useSpecServers({ redis: true });
  let redis: Redis;
  beforeAll(() => {
    redis = servers.redisClient;
  });

  beforeEach(() => redis.flushall());

  const ids = async (stream: string) =>
    (await redis.xrange(stream, '-', '+')).map(([, fields]) => fieldMap(fields)['id']);

  it('appends a batch and moves the mark to its last position', async () => {
    const batch = [event(0x10n, 1), event(0x10n, 2), event(0x20n, 1)];
    expect(await appendNewer(redis, 's', batch)).toEqual({ appended: 3, skipped: 0 });
    expect(await ids('s')).toEqual(['e-16-1', 'e-16-2', 'e-32-1']);
    expect(await readHighWaterMark(redis, 's')).toBe(batch[2].position);
  });

  it('skips what the stream already holds when a batch is replayed, even partly', async () => {
    await appendNewer(redis, 's', [event(0x10n, 1), event(0x10n, 2)]);
    const replay = [event(0x10n, 1), event(0x10n, 2), event(0x10n, 3), event(0x30n, 1)];
    expect(await appendNewer(redis, 's', replay)).toEqual({ appended: 2, skipped: 2 });
    expect(await appendNewer(redis, 's', replay)).toEqual({ appended: 0, skipped: 4 });
    expect(await ids('s')).toEqual(['e-16-1', 'e-16-2', 'e-16-3', 'e-48-1']);
  });

  it('compares positions numerically across the 32-bit halves of the LSN', async () => {
    await appendNewer(redis, 's', [event(0xffffffffn, 9)]);
    expect(await appendNewer(redis, 's', [event(0x1_00000000n, 1)])).toEqual({ appended: 1, skipped: 0 });
    expect(await appendNewer(redis, 's', [event(0xfffffffen, 10)])).toEqual({ appended: 0, skipped: 1 });
  });

  it('refuses a batch whose predecessor has not landed (GAP), so a retry cannot be skipped', async () => {
    const first = [event(0x10n, 1)];
    const second = [event(0x10n, 2)];
    await expect(appendNewer(redis, 's', second, first[0].position)).rejects.toThrow(/^GAP/);
    expect(await redis.exists('s')).toBe(0);
    await appendNewer(redis, 's', first);
    expect(await appendNewer(redis, 's', second, first[0].position)).toEqual({ appended: 1, skipped: 0 });
  });

  it('carries every field byte for byte: UTF-8, empty values, large values, many events', async () => {
    const values = ['', 'é — 🙂 "quoted" \\ \r\n', 'x'.repeat(70_000)];
    const batch = Array.from({ length: 1500 }, (_, i) => {
      const position = formatPosition({ commitLsn: 0x10n, ordinal: i + 1 });
      return {
        stream: 's',
        position,
        fields: ['id', `e-${i}`, 'value', values[i % 3], 'position', position],
      };
    });
    expect(await appendNewer(redis, 's', batch)).toEqual({ appended: 1500, skipped: 0 });
    const entries = await redis.xrange('s', '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual(batch.map((e) => e.fields));
  });

  it('writes row changes (sent compactly) and every other event field for field as the relay built them', async () => {
    const tx = transactionContext(0x20n, 1_763_769_600_123_456n);
    const relation = { name: 's', schema: 'public' } as Pgoutput.MessageRelation;
    const keyed = rowChangeEvent(
      { tag: 'insert', relation, before: null, after: { id: 'é1' }, unchanged: [] },
      tx,
      1,
      ['id'],
    );
    const keyless = rowChangeEvent(
      { tag: 'delete', relation, before: { x: 1 }, after: null, unchanged: [] },
      tx,
      2,
      [],
    );
    const outbox = outboxEvent(
      Buffer.from(
        JSON.stringify({ aggregate: 'order', event: { id: 'o-1', type: 't', source: 'x', data: {} } }),
      ),
      tx,
      3,
    );
    // A row change's fields given as a plain list, with one constant the script would add differently.
    const row = rowChangeEvent(
      { tag: 'insert', relation, before: null, after: { id: 2 }, unchanged: [] },
      tx,
      4,
      ['id'],
    );
    const lookalike: RelayEvent = { stream: 's', position: row.position, fields: [...row.fields] };
    lookalike.fields[7] = 'someone-else'; // the source
    const batch = [keyed, keyless, { ...outbox, stream: 's' }, lookalike];
    expect(keyed.fields).toHaveLength(18);
    expect(keyless.fields).toHaveLength(16);
    expect(await appendNewer(redis, 's', batch)).toEqual({ appended: 4, skipped: 0 });
    const entries = await redis.xrange('s', '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual(batch.map((e) => e.fields));

    // A replay steps over held entries of every shape (they differ in length in the packed batch).
    for (let held = 1; held <= 4; held++) {
      await redis.flushall();
      await appendNewer(redis, 's', batch.slice(0, held));
      expect(await appendNewer(redis, 's', batch)).toEqual({ appended: 4 - held, skipped: held });
      const replayed = await redis.xrange('s', '-', '+');
      expect(replayed.map(([, fields]) => fields)).toEqual(batch.map((e) => e.fields));
    }
  });

  it('keeps a mark per stream', async () => {
    await appendNewer(redis, 'a', [event(0x10n, 1)]);
    expect(await appendNewer(redis, 'b', [event(0x10n, 1)])).toEqual({ appended: 1, skipped: 0 });
  });

  it('works again after Redis restarts with an empty script cache', async () => {
    await appendNewer(redis, 's', [event(0x10n, 1)]);
    await redis.script('FLUSH');
    expect(await appendNewer(redis, 's', [event(0x10n, 2)])).toEqual({ appended: 1, skipped: 0 });
  });
});
