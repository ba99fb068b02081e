import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Client } from 'pg';
import { cdcConfig } from '@choreo/cdc';
import { loadConfig } from '@choreo/config';
import { Streams } from '@choreo/contracts';
import { createHttpApp, ReadinessRegistry, RuntimeModule } from '@choreo/runtime';
import { useSpecServers, waitFor } from '@choreo/testing';
import { RelayModule } from './relay.module';
import { RelayService } from './relay.service';

describe('RelayModule', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'app' });
  let databaseUrl: string;
  let db: Client;

  const createApp = async (env: Record<string, string> = {}) => {
    const { cdc } = loadConfig(
      { cdc: cdcConfig },
      { CDC_HEARTBEAT_MS: '500', CDC_STATUS_INTERVAL_MS: '200', ...env },
    );
    @Module({
      imports: [
        RuntimeModule.forRoot({ app: 'cdc-relay', logLevel: 'silent' }),
        RelayModule.forRoot({ databaseUrl, redisUrl: servers.redis.url, cdc }),
      ],
    })
    class RelayTestApp {}
    return createHttpApp(RelayTestApp, { logger: false, abortOnError: false });
  };

  beforeAll(async () => {
    databaseUrl = servers.databaseUrl;
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`create table hello (id int primary key, world text); alter table hello replica identity full;
                    create table plain (id int primary key)`);
  });

  servers.atStop(() => db?.end());

  it('is ready only while streaming, relays, and stops without dropping its slot', async () => {
    const app = await createApp();
    await app.init();
    const readiness = app.get(ReadinessRegistry);
    await waitFor('ready', async () => (await readiness.report()).checks['streaming'] === 'up', 30_000);

    await db.query(`insert into hello values (1, 'earth')`);
    const redis = new Redis(servers.redis.url);
    await waitFor('the row in cdc.hello', async () => (await redis.xlen(Streams.cdc('hello'))) === 1, 30_000);
    redis.disconnect();

    const relay = app.get(RelayService).relay;
    await app.close();
    expect(relay.state).toBe('stopped');
    const { rows } = await db.query(
      `select active from pg_replication_slots where slot_name = 'choreo_relay'`,
    );
    expect(rows).toEqual([{ active: false }]);
  });

  it('refuses to boot when a named table has no REPLICA IDENTITY FULL', async () => {
    const app = await createApp({ CDC_TABLES: 'hello,plain', CDC_PUBLICATION: 'other', CDC_SLOT: 'other' });
    await expect(app.init()).rejects.toThrow(/ALTER TABLE "public"\."plain" REPLICA IDENTITY FULL/);
    await app.close();
  });
});
