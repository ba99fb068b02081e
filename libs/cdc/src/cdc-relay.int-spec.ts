import Redis from 'ioredis';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { decodeEnvelope, EventEnvelope, Streams } from '@choreo/contracts';
import { useSpecServers, waitFor } from '@choreo/testing';
import { CdcRelay, CdcRelayOptions } from './cdc-relay';
import { parsePosition, comparePositions } from './position';
import { RowChangeData } from './relay-events';
import { CdcSetupError } from './relay-setup';
import { emitOutbox } from './test-fixtures/relay-harness';

type Entry = EventEnvelope<RowChangeData> & { position: string; entryId: string };

describe('CdcRelay (real PostgreSQL and Redis)', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'shop' });
  let redis: Redis;
  let db: Client;
  let databaseUrl: string;
  const relays: CdcRelay[] = [];

  const createRelay = (overrides: Partial<CdcRelayOptions> = {}) => {
    const relay = new CdcRelay({
      databaseUrl,
      redisUrl: servers.redis.url,
      publication: 'choreo',
      slot: 'choreo_relay',
      tables: 'auto',
      heartbeatIntervalMs: 500,
      statusIntervalMs: 200,
      chunkEvents: 100,
      maxQueuedFrames: 1000,
      tableRefreshMs: 500,
      registry: new Registry(),
      ...overrides,
    });
    relays.push(relay);
    return relay;
  };

  const entries = async (stream: string): Promise<Entry[]> =>
    (await redis.xrange(stream, '-', '+')).map(([entryId, fields]) => {
      const map: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) map[fields[i]] = fields[i + 1];
      return { ...decodeEnvelope<RowChangeData>(fields), position: map['position'], entryId };
    });

  const until = async (stream: string, count: number): Promise<Entry[]> => {
    await waitFor(`${count} entries in ${stream}`, async () => (await redis.xlen(stream)) >= count, 60_000);
    return entries(stream);
  };

  beforeAll(async () => {
    databaseUrl = servers.databaseUrl;
    redis = servers.redisClient;
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`
      create table product (
        id int primary key, name text not null, price numeric(10, 2), stock int, tags jsonb,
        active boolean default true, description text, updated_at timestamptz default now());
      alter table product replica identity full;
      alter table product alter column description set storage external;
      create table hello (id int primary key, world text);
      alter table hello replica identity full;
      create table internal_log (id serial primary key, line text);`);
  });

  servers.atStop(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await db?.end();
  });

  it('fails fast, saying what to change, when a named table lacks REPLICA IDENTITY FULL', async () => {
    const relay = createRelay({ tables: ['product', 'internal_log'], slot: 'never_created' });
    await expect(relay.start()).rejects.toThrow(CdcSetupError);
    await expect(relay.start()).rejects.toThrow(/ALTER TABLE "public"\."internal_log" REPLICA IDENTITY FULL/);
    const { rowCount } = await db.query(
      `select 1 from pg_replication_slots where slot_name = 'never_created'`,
    );
    expect(rowCount).toBe(0);
  });

  it('creates the publication of REPLICA IDENTITY FULL tables and the slot, then streams', async () => {
    const relay = createRelay();
    await relay.start();
    await waitFor('streaming', async () => relay.state === 'streaming', 30_000);
    const { rows: tables } = await db.query(
      `select tablename from pg_publication_tables where pubname = 'choreo' order by tablename`,
    );
    expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(['hello', 'product']);
    const { rows: slots } = await db.query(
      `select plugin from pg_replication_slots where slot_name = 'choreo_relay'`,
    );
    expect(slots).toEqual([{ plugin: 'pgoutput' }]);
  });

  it('relays inserts, updates and deletes with before and after images, in commit order', async () => {
    await db.query(
      `insert into product (id, name, price, stock, tags, updated_at)
       values (1, 'Tea', 3.50, 10, '{"origin":"CN"}', '2026-11-21 10:00:00.123456+00')`,
    );
    await db.query(`update product set stock = 9, price = 3.75 where id = 1`);
    await db.query(`delete from product where id = 1`);
    const [inserted, updated, deleted] = await until(Streams.cdc('product'), 3);

    expect(inserted).toMatchObject({ type: 'product.inserted', source: 'cdc-relay', subject: '1' });
    expect(inserted.data.before).toBeNull();
    expect(inserted.data.after).toEqual({
      id: 1,
      name: 'Tea',
      price: '3.50',
      stock: 10,
      tags: { origin: 'CN' },
      active: true,
      description: null,
      updated_at: '2026-11-21 10:00:00.123456+00',
    });
    expect(inserted.data.key).toEqual({ id: 1 });
    expect(updated.type).toBe('product.updated');
    expect(updated.data.before).toMatchObject({ stock: 10, price: '3.50' });
    expect(updated.data.after).toMatchObject({ stock: 9, price: '3.75' });
    expect(updated.data.unchanged).toEqual([]);
    expect(deleted.type).toBe('product.deleted');
    expect(deleted.data.before).toMatchObject({ id: 1, stock: 9 });
    expect(deleted.data.after).toBeNull();

    for (const event of [inserted, updated, deleted]) {
      expect(event.position).toBe(event.data.position);
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Date(event.time).getTime()).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(comparePositions(parsePosition(inserted.position), parsePosition(updated.position))).toBeLessThan(
      0,
    );
    expect(comparePositions(parsePosition(updated.position), parsePosition(deleted.position))).toBeLessThan(
      0,
    );
  });

  it('marks an unchanged TOAST value as unchanged instead of sending null', async () => {
    const longText = Array.from({ length: 400 }, (_, i) => `line ${i} of a long description`).join('\n');
    await db.query(`insert into product (id, name, description) values (2, 'Coffee', $1)`, [longText]);
    await db.query(`update product set stock = 5 where id = 2`);
    const events = (await until(Streams.cdc('product'), 5)).slice(3);
    const update = events[1];
    expect(update.type).toBe('product.updated');
    expect(update.data.unchanged).toEqual(['description']);
    // REPLICA IDENTITY FULL logs the whole old row, so the value is known and carried over.
    expect(update.data.after?.['description']).toBe(longText);
    expect(update.data.after?.['stock']).toBe(5);
  });

  it('routes outbox messages to their aggregate stream, keeping id, correlation and trace context', async () => {
    const orderEvent = {
      id: '0190f6a4-7c1e-7000-8000-00000000abcd',
      type: 'order.created',
      source: 'events',
      subject: 'order-7',
      time: '2026-11-21T10:00:00.000Z',
      sequence: 1,
      correlationid: 'corr-7',
      causationid: 'cause-7',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      data: { total: 12.5 },
    };
    await db.query('begin');
    await db.query(`insert into hello (id, world) values (1, 'earth')`);
    await emitOutbox(db, 'order', orderEvent);
    await emitOutbox(db, 'hello', {
      id: 'ev-hello-1',
      type: 'hello.created',
      source: 'events',
      data: { world: 'earth' },
    });
    await db.query(
      `select pg_logical_emit_message(true, 'choreo.outbox', '{"aggregate":"order","event":{}}')`,
    );
    await db.query('commit');

    const [order] = await until(Streams.orders, 1);
    expect(order).toMatchObject({ ...orderEvent, datacontenttype: 'application/json' });
    const [hello] = await until(Streams.entityEvents('hello'), 1);
    expect(hello).toMatchObject({ id: 'ev-hello-1', type: 'hello.created', data: { world: 'earth' } });
    const [row] = await until(Streams.cdc('hello'), 1);
    const [dead] = await redis.xrange(Streams.deadLetters, '-', '+');
    const deadFields = Object.fromEntries(
      dead[1].flatMap((value, i, all) => (i % 2 === 0 ? [[value, all[i + 1]]] : [])),
    ) as Record<string, string>;
    expect(deadFields['dlq_error']).toMatch(/event\.id/);
    expect(deadFields['dlq_stream']).toBe('orders');

    // One transaction: the row change, then the outbox events, numbered in that order.
    const positions = [row.position, order.position, hello.position, deadFields['position']].map(
      parsePosition,
    );
    expect(new Set(positions.map((p) => p.commitLsn)).size).toBe(1);
    expect(positions.map((p) => p.ordinal)).toEqual([1, 2, 3, 4]);
  });

  it('publishes a table that gets REPLICA IDENTITY FULL after start (auto mode)', async () => {
    await db.query(
      `create table courier (id int primary key, name text); alter table courier replica identity full`,
    );
    await waitFor(
      'courier in the publication',
      async () =>
        (
          await db.query(
            `select 1 from pg_publication_tables where pubname = 'choreo' and tablename = 'courier'`,
          )
        ).rowCount === 1,
      10_000,
    );
    await db.query(`insert into courier values (1, 'Ada')`);
    const [courier] = await until(Streams.cdc('courier'), 1);
    expect(courier.data.after).toEqual({ id: 1, name: 'Ada' });
  });

  it('pauses reading from PostgreSQL while Redis is stalled, then catches up exactly once', async () => {
    const stream = Streams.cdc('hello');
    const before = await redis.xlen(stream);
    const behind = async () =>
      Number(
        (
          await db.query<{ bytes: string }>(
            `select pg_wal_lsn_diff(pg_current_wal_lsn(), r.sent_lsn)::bigint::text as bytes
               from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid
              where s.slot_name = 'choreo_relay'`,
          )
        ).rows[0].bytes,
      );
    // SIGSTOP: Redis keeps its connections open and answers nothing, like a server stuck on its disk.
    process.kill(-servers.redis.pid!, 'SIGSTOP');
    try {
      // 200 transactions: while the walsender is blocked sending one, the later ones pile up behind it.
      for (let tx = 0; tx < 200; tx++) {
        await db.query(
          `insert into hello (id, world) select g, 'w' || g from generate_series($1::int, $2::int) g`,
          [1000 + tx * 1000, 1999 + tx * 1000],
        );
      }
      // The relay's queue fills, it stops reading, TCP buffers fill, and the walsender stops sending.
      let last = -1;
      await waitFor(
        'the walsender to stall',
        async () => {
          const now = await behind();
          const stalled = now > 4 * 1024 * 1024 && now === last;
          last = now;
          await new Promise((resolve) => setTimeout(resolve, 500));
          return stalled;
        },
        30_000,
      );
    } finally {
      process.kill(-servers.redis.pid!, 'SIGCONT');
    }
    const entries = await until(stream, before + 200_000);
    const subjects = new Set(entries.slice(before).map((e) => e.subject));
    expect(entries.length - before).toBe(200_000);
    expect(subjects.size).toBe(200_000);
  });

  it('keeps the WAL retained by the slot small while another database writes', async () => {
    const otherUrl = await servers.postgres.createDatabase('elsewhere');
    const other = new Client({ connectionString: otherUrl });
    await other.connect();
    await other.query(`create table filler (id bigserial primary key, payload text)`);
    const retained = async () =>
      Number(
        (
          await db.query<{ bytes: string }>(
            `select pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text as bytes
               from pg_replication_slots where slot_name = 'choreo_relay'`,
          )
        ).rows[0].bytes,
      );
    const start = Number(
      (await db.query<{ lsn: string }>(`select pg_current_wal_lsn() - '0/0' as lsn`)).rows[0].lsn,
    );
    let written = 0;
    let worst = 0;
    const MB = 1024 * 1024;
    // About 8 MB/s for 20 s: far more than 64 MB in total, so only a slot that advances stays under it.
    while (written < 160 * MB) {
      const tick = Date.now();
      await other.query(
        `insert into filler (payload) select repeat(md5(g::text), 30) from generate_series(1, 3500) g`,
      );
      written =
        Number((await db.query<{ lsn: string }>(`select pg_current_wal_lsn() - '0/0' as lsn`)).rows[0].lsn) -
        start;
      worst = Math.max(worst, await retained());
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 500 - (Date.now() - tick))));
    }
    await other.end();
    expect(written).toBeGreaterThan(160 * MB);
    process.stdout.write(
      `WAL retained by the slot while another database wrote ${Math.round(written / MB)} MB: at most ${(worst / MB).toFixed(1)} MB\n`,
    );
    expect(worst).toBeLessThan(64 * MB);
  });

  it('confirms on a graceful stop everything it appended, so the next start replays nothing', async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    const stream = Streams.cdc('hello');
    const skipped = async (registry: Registry) =>
      ((await registry.getSingleMetric('cdc_duplicates_skipped_total')?.get())?.values ?? []).reduce(
        (sum, { value }) => sum + value,
        0,
      );
    // No periodic status within the test: only the stop itself can confirm these rows.
    const quiet = { statusIntervalMs: 600_000, heartbeatIntervalMs: 600_000 };
    const first = createRelay(quiet);
    await first.start();
    const before = await redis.xlen(stream);
    await db.query(`insert into hello (id, world) select g, 'stop' from generate_series(900001, 901000) g`);
    await until(stream, before + 1000);
    await first.stop();
    const { rows } = await db.query<{ caught_up: boolean }>(
      `select confirmed_flush_lsn >= $1::pg_lsn as caught_up from pg_replication_slots where slot_name = 'choreo_relay'`,
      [first.confirmedLsn],
    );
    expect(rows).toEqual([{ caught_up: true }]);

    const registry = new Registry();
    const second = createRelay({ ...quiet, registry });
    await second.start();
    await db.query(`insert into hello (id, world) values (901001, 'after')`);
    const all = await until(stream, before + 1001);
    expect(all.slice(before).map((e) => e.subject)).toEqual(
      Array.from({ length: 1001 }, (_, i) => String(900001 + i)),
    );
    expect(await skipped(registry)).toBe(0);
  });
});
