import path from 'node:path';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { useSpecServers } from '@choreo/testing';
import { describeMenuSeed, ProductTableMissingError, seedMenuIfEmpty, STARTER_MENU } from './menu-seed';

describe('the starter menu (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'menu' });
  let db: Database;

  beforeAll(() => {
    db = new Database({ url: servers.databaseUrl, poolMax: 4 });
    servers.atStop(() => db.close());
  });

  it('waits for the product table, seeds an empty one exactly once however many seeders race, then leaves it', async () => {
    await expect(seedMenuIfEmpty(db)).rejects.toThrow(ProductTableMissingError);
    await syncEntitySchema(db, loadEntities(path.resolve(__dirname, '../../../entities')));

    const results = await Promise.all([seedMenuIfEmpty(db), seedMenuIfEmpty(db), seedMenuIfEmpty(db)]);
    expect(results.filter((r) => 'seeded' in r)).toEqual([{ seeded: STARTER_MENU.length }]);
    const { rows } = await db.query<{ name: string; stock: number }>(
      'select name, stock from product order by name',
    );
    expect(rows.map((r) => r.name)).toEqual(STARTER_MENU.map((m) => m.name).sort());
    expect(rows.every((r) => r.stock === 1000)).toBe(true);

    expect(await seedMenuIfEmpty(db)).toEqual({ skipped: 'not-empty' });
    expect(describeMenuSeed({ seeded: 6 })).toMatch(/empty: seeded a starter menu of 6 products/);
  });
});
