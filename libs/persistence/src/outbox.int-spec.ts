import { Pool, PoolClient } from 'pg';
import { useSpecServers } from '@choreo/testing';
import {
  beginIdempotentRequest,
  claimInboxEvent,
  completeIdempotentRequest,
  createOutboxProbeSlot,
  dropOutboxProbeSlot,
  IDEMPOTENCY_SCHEMA,
  IdempotencyKeyReusedError,
  INBOX_SCHEMA,
  peekOutboxMessages,
  recordOutboxEvent,
  requestFingerprint,
} from './index';

describe('outbox, inbox and idempotency keys (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'outbox' });
  let pool: Pool;

  beforeAll(async () => {
    pool = servers.pool({ max: 8 });
    await pool.query(INBOX_SCHEMA);
    await pool.query(IDEMPOTENCY_SCHEMA);
    await pool.query('create table note (id int primary key, body text)');
  });

  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  }

  it('records an event only when its transaction commits, with the full envelope', async () => {
    await createOutboxProbeSlot(pool, 'probe_outbox');
    try {
      const committed = await inTransaction(async (client) => {
        await client.query("insert into note values (1, 'kept')");
        return recordOutboxEvent(client, {
          aggregate: 'note',
          type: 'note.created',
          subject: '1',
          sequence: 1,
          correlationid: 'corr-1',
          causationid: 'cause-1',
          data: { body: 'kept' },
        });
      });
      await expect(
        inTransaction(async (client) => {
          await client.query("insert into note values (2, 'lost')");
          await recordOutboxEvent(client, {
            aggregate: 'note',
            type: 'note.created',
            subject: '2',
            data: {},
          });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');

      const messages = await peekOutboxMessages(pool, 'probe_outbox');
      expect(messages).toEqual([{ aggregate: 'note', event: committed }]);
      expect(committed).toMatchObject({
        type: 'note.created',
        source: 'events',
        subject: '1',
        sequence: 1,
        correlationid: 'corr-1',
        causationid: 'cause-1',
        data: { body: 'kept' },
      });
      expect(committed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      expect(Date.parse(committed.time)).not.toBeNaN();
      expect((await pool.query('select id from note')).rows).toEqual([{ id: 1 }]);
    } finally {
      await dropOutboxProbeSlot(pool, 'probe_outbox');
    }
  });

  it('claims an inbox event once per consumer, even when claimed concurrently', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => inTransaction((client) => claimInboxEvent(client, 'events', 'ev-1'))),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await inTransaction((client) => claimInboxEvent(client, 'aggregator', 'ev-1'))).toBe(true);
    await expect(
      inTransaction(async (client) => {
        expect(await claimInboxEvent(client, 'events', 'ev-2')).toBe(true);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    // The failed attempt rolled its claim back, so a redelivery applies it.
    expect(await inTransaction((client) => claimInboxEvent(client, 'events', 'ev-2'))).toBe(true);
  });

  it('replays a key used with the same request and refuses it with another one', async () => {
    const fingerprint = requestFingerprint('POST', '/orders', { a: 1, b: [1, 2] });
    expect(requestFingerprint('post', '/orders', { b: [1, 2], a: 1 })).toBe(fingerprint);

    // Concurrent first uses: exactly one runs the work, the others wait and replay its response.
    let runs = 0;
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        inTransaction(async (client) => {
          const stored = await beginIdempotentRequest(client, 'key-1', fingerprint);
          if (stored) return stored;
          runs += 1;
          await client.query('select pg_sleep(0.05)');
          const response = {
            statusCode: 201,
            body: { id: 'order-1' },
            headers: { location: '/orders/order-1' },
          };
          await completeIdempotentRequest(client, 'key-1', response);
          return response;
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(responses).toEqual(
      Array(4).fill({ statusCode: 201, body: { id: 'order-1' }, headers: { location: '/orders/order-1' } }),
    );

    const other = requestFingerprint('POST', '/orders', { a: 2 });
    await expect(inTransaction((client) => beginIdempotentRequest(client, 'key-1', other))).rejects.toThrow(
      IdempotencyKeyReusedError,
    );
  });

  it('forgets a key whose request failed, so a retry runs again', async () => {
    const fingerprint = requestFingerprint('POST', '/orders', { n: 1 });
    await expect(
      inTransaction(async (client) => {
        expect(await beginIdempotentRequest(client, 'key-2', fingerprint)).toBeUndefined();
        throw new Error('out of stock');
      }),
    ).rejects.toThrow('out of stock');
    expect(
      await inTransaction((client) => beginIdempotentRequest(client, 'key-2', fingerprint)),
    ).toBeUndefined();
  });
});
