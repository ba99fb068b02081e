import Redis from 'ioredis';
import { Client } from 'pg';
import { startPostgres, startRedis } from './index';

describe('libs/testing servers', () => {
  it('runs a redis-server whose AOF survives a SIGKILL and restart', async () => {
    const redis = await startRedis();
    try {
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      await client.xadd('probe', '*', 'n', '1');
      await redis.kill();
      await redis.restart();
      expect(await client.xlen('probe')).toBe(1);
      client.disconnect();
    } finally {
      await redis.stop();
    }
  });

  it('runs PostgreSQL with wal_level=logical that survives a SIGKILL and restart', async () => {
    const pg = await startPostgres({ fsync: false });
    try {
      const url = await pg.createDatabase('probe');
      let client = new Client({ connectionString: url });
      await client.connect();
      expect((await client.query('show wal_level')).rows[0].wal_level).toBe('logical');
      await client.query('create table t (id int primary key)');
      await client.query('insert into t values (1)');
      await client.end();
      await pg.kill();
      await pg.restart();
      client = new Client({ connectionString: url });
      await client.connect();
      expect((await client.query('select count(*)::int as n from t')).rows[0].n).toBe(1);
      await client.end();
    } finally {
      await pg.stop();
    }
  });
});
