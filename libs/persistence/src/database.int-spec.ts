import { useSpecServers } from '@choreo/testing';
import { Database } from './database';
import { migrate } from './migrations';

describe('Database and migrate (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'db' });
  let db: Database;

  beforeAll(() => {
    db = new Database({ url: servers.databaseUrl, poolMax: 4 });
    servers.atStop(() => db.close());
  });

  it('commits when the function resolves and rolls back when it throws', async () => {
    await db.query('create table ledger (id int primary key, amount int not null)');
    await db.transaction(async (tx) => {
      await tx.query('insert into ledger values (1, 10)');
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into ledger values (2, 20)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await db.query('select id from ledger order by id')).rows).toEqual([{ id: 1 }]);
  });

  it('runs read-only transactions that refuse writes', async () => {
    await expect(
      db.transaction((tx) => tx.query('insert into ledger values (3, 30)'), { readOnly: true }),
    ).rejects.toMatchObject({ code: '25006' });
  });

  it('re-runs a serializable transaction that lost a serialization conflict', async () => {
    await db.query('create table counter (id int primary key, n int not null)');
    await db.query('insert into counter values (1, 0)');
    let attempts = 0;
    // Two serializable read-modify-write transactions on one row: one must fail with 40001 and,
    // re-run, see the other's commit, so no increment is lost.
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const increment = () =>
      db.transaction(
        async (tx) => {
          attempts += 1;
          const { rows } = await tx.query<{ n: number }>('select n from counter where id = 1');
          if (++reads === 2) release();
          await bothRead;
          await tx.query('update counter set n = $1 where id = 1', [rows[0].n + 1]);
        },
        { isolation: 'serializable', retries: 3 },
      );
    await Promise.all([increment(), increment()]);
    expect((await db.query('select n from counter')).rows[0].n).toBe(2);
    expect(attempts).toBe(3);
  });

  it('migrate applies each migration once, in order, and stops at a failing one', async () => {
    const migrations = [
      { id: '001_orders', sql: 'create table orders (id int primary key)' },
      { id: '002_total', sql: 'alter table orders add column total int' },
    ];
    expect(await migrate(db, 'events', migrations)).toEqual(['001_orders', '002_total']);
    expect(await migrate(db, 'events', migrations)).toEqual([]);
    const broken = [...migrations, { id: '003_broken', sql: 'alter table orders add column total int' }];
    await expect(migrate(db, 'events', broken)).rejects.toThrow(
      /migration events\/003_broken failed: .*already exists/,
    );
    const { rows } = await db.query(`select id from schema_migrations where owner = 'events' order by id`);
    expect(rows.map((r) => r.id)).toEqual(['001_orders', '002_total']);
  });

  it('answers ping while the server is up', async () => {
    expect(await db.ping()).toBe(true);
  });
});
