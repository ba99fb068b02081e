import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import { fieldMap, Streams } from '@choreo/contracts';
import { useSpecServers, waitFor } from '@choreo/testing';
import { emitOutbox, RelayProcess, startRelayProcess } from './test-fixtures/relay-harness';

/**
 * A steady write load: transactions of 1–4 rows (every 25th: 300 rows, several append chunks) into
 * `ledger`, each with one outbox event whose id is also stored in `sent_event` in the same
 * transaction, so the table says exactly what was committed. Survives PostgreSQL going away.
 */
function startLoad(url: string) {
  let running = true;
  let transactions = 0;
  const done = (async () => {
    let db: Client | undefined;
    while (running) {
      try {
        if (!db) {
          db = new Client({ connectionString: url });
          db.on('error', () => undefined);
          await db.connect();
        }
        const rows = transactions % 25 === 0 ? 300 : 1 + (transactions % 4);
        const eventId = randomUUID();
        await db.query('begin');
        await db.query(`insert into ledger (amount) select g from generate_series(1, $1::int) g`, [rows]);
        await db.query(`insert into sent_event (id) values ($1)`, [eventId]);
        await emitOutbox(db, 'ledger', {
          id: eventId,
          type: 'ledger.posted',
          source: 'test',
          data: { rows },
        });
        await db.query('commit');
        transactions++;
        await new Promise((resolve) => setTimeout(resolve, 3));
      } catch {
        // PostgreSQL restarting: whether that transaction committed, the table will say.
        await db?.end().catch(() => undefined);
        db = undefined;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await db?.end().catch(() => undefined);
  })();
  return {
    get transactions() {
      return transactions;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('CdcRelay exactly once under crashes (relay in a child process)', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'bank' });
  let redis: Redis;
  let db: Client;
  let databaseUrl: string;
  let relay: RelayProcess | undefined;
  const logs: string[] = [];

  const launchRelay = async () => {
    relay = startRelayProcess({
      DATABASE_URL: databaseUrl,
      REDIS_URL: servers.redis.url,
      CDC_HEARTBEAT_MS: '500',
      CDC_STATUS_INTERVAL_MS: '100',
      CDC_CHUNK_EVENTS: '50',
      CDC_MAX_QUEUED_FRAMES: '500',
    });
    const started = relay;
    started.child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    await started.streaming();
    return started;
  };

  /** Every committed row and outbox event is in its stream exactly once, in position order. */
  const expectExactlyOnce = async () => {
    const { rows: lsnRows } = await db.query<{ lsn: string }>(`select pg_current_wal_lsn()::text as lsn`);
    await waitFor(
      'the relay to confirm everything committed',
      async () =>
        (
          await db.query(
            `select 1 from pg_replication_slots where slot_name = 'choreo_relay' and confirmed_flush_lsn >= $1::pg_lsn`,
            [lsnRows[0].lsn],
          )
        ).rowCount === 1,
      60_000,
    );
    const check = async (
      stream: string,
      committed: string[],
      key: (fields: Record<string, string>) => string,
    ) => {
      const entries = (await redis.xrange(stream, '-', '+')).map(([, fields]) => fieldMap(fields));
      const positions = entries.map((e) => e['position']);
      const outOfOrder = positions.filter((p, i) => i > 0 && p <= positions[i - 1]);
      const seen = new Map<string, number>();
      for (const entry of entries) seen.set(key(entry), (seen.get(key(entry)) ?? 0) + 1);
      const missing = committed.filter((id) => !seen.has(id));
      const duplicates = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
      const committedSet = new Set(committed);
      const phantom = [...seen.keys()].filter((id) => !committedSet.has(id));
      // Counts plus the first few ids: a failure says how bad and where, without pages of output.
      const summary = (ids: string[]) => ({ count: ids.length, first: ids.slice(0, 5) });
      expect({
        stream,
        missing: summary(missing),
        duplicates: summary(duplicates),
        phantom: summary(phantom),
        outOfOrder: summary(outOfOrder),
      }).toEqual({
        stream,
        missing: summary([]),
        duplicates: summary([]),
        phantom: summary([]),
        outOfOrder: summary([]),
      });
      return entries.length;
    };
    const { rows: ledger } = await db.query<{ id: string }>(`select id::text from ledger`);
    const { rows: sent } = await db.query<{ id: string }>(`select id::text from sent_event`);
    const rowEvents = await check(
      Streams.cdc('ledger'),
      ledger.map((r) => r.id),
      (e) => e['subject'],
    );
    const outboxEvents = await check(
      Streams.entityEvents('ledger'),
      sent.map((r) => r.id),
      (e) => e['id'],
    );
    return { rowEvents, outboxEvents };
  };

  beforeAll(async () => {
    databaseUrl = servers.databaseUrl;
    redis = servers.newRedisClient({ maxRetriesPerRequest: null });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`
      create table ledger (id bigserial primary key, amount int not null);
      alter table ledger replica identity full;
      create table sent_event (id uuid primary key);`);
  });

  servers.atStop(async () => {
    await relay?.kill('SIGTERM');
    await db?.end();
  });

  it('loses nothing and duplicates nothing when the relay is SIGKILLed 20 times under load', async () => {
    await launchRelay();
    const load = startLoad(databaseUrl);
    for (let kill = 0; kill < 20; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
      await relay!.kill('SIGKILL');
      await launchRelay();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await load.stop();
    expect(load.transactions).toBeGreaterThan(100);
    const { rowEvents } = await expectExactlyOnce();
    expect(rowEvents).toBeGreaterThan(1000);
    // How often a kill landed after an append and before its confirmation (the replay window).
    const replays = logs.join('').match(/replayed event/g)?.length ?? 0;
    process.stdout.write(
      `relay SIGKILLed 20 times: ${rowEvents} row events, ${replays} replayed batches skipped\n`,
    );
  });

  it('loses nothing and duplicates nothing when Redis is SIGKILLed and restarted mid-load', async () => {
    const load = startLoad(databaseUrl);
    for (let crash = 0; crash < 3; crash++) {
      await new Promise((resolve) => setTimeout(resolve, 700 + Math.random() * 500));
      await servers.redis.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await servers.redis.restart();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await load.stop();
    await expectExactlyOnce();
    expect(relay!.child.exitCode).toBeNull();
  });

  it('resumes after PostgreSQL is killed and restarted', async () => {
    const load = startLoad(databaseUrl);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await db.end();
    await servers.postgres.kill('SIGKILL');
    await servers.postgres.restart();
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const before = load.transactions;
    await waitFor('writes after the restart', async () => load.transactions > before + 50, 60_000);
    await load.stop();
    await expectExactlyOnce();
    expect(relay!.child.exitCode).toBeNull();
  });
});
