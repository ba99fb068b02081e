import { EntityCatalog, EntityError, EntityModel, parseEntity } from '@choreo/entities';
import { PostgresServer, startPostgres } from '@choreo/testing';
import { Database } from './database';
import { EntityRepository } from './entity.repository';
import { SchemaSyncError, syncEntitySchema } from './schema-sync';

function entity(yaml: string, file = 'entities/item.yaml'): EntityModel {
  const result = parseEntity(yaml, file);
  if (!('model' in result)) throw new Error(JSON.stringify(result.problems));
  return result.model;
}

const ITEM_V1 = `
name: item
fields:
  title: { type: text, required: true }
  qty: { type: integer, default: 1, required: true }
  code: { type: text, unique: true }
`;

const ITEM_V2 = `
name: item
fields:
  title: { type: text }
  qty: { type: integer, default: 1, required: true }
  code: { type: text, unique: true }
  note: { type: text }
  weight: { type: decimal, precision: 8, scale: 2, required: true, default: 0 }
indexes:
  - fields: [note]
`;

describe('entity schema sync and repository (real PostgreSQL)', () => {
  let pg: PostgresServer;
  let db: Database;

  beforeAll(async () => {
    pg = await startPostgres({ fsync: false });
    db = new Database({ url: await pg.createDatabase('sync'), poolMax: 4 });
  });

  afterAll(async () => {
    await db?.close();
    await pg?.stop();
  });

  const columns = async (table: string) =>
    (
      await db.query<{ name: string; type: string; notnull: boolean }>(
        `select attname as name, format_type(atttypid, atttypmod) as type, attnotnull as notnull
           from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
        [table],
      )
    ).rows;

  it('creates the tables once, even when replicas sync at the same moment', async () => {
    const catalog = new EntityCatalog([entity(ITEM_V1)]);
    const replicas = [
      db,
      new Database({ url: pg.urlFor('sync'), poolMax: 1 }),
      new Database({ url: pg.urlFor('sync'), poolMax: 1 }),
    ];
    const results = await Promise.all(replicas.map((replica) => syncEntitySchema(replica, catalog)));
    await Promise.all(replicas.slice(1).map((replica) => replica.close()));
    // One replica created everything under the lock; the others found nothing left to do.
    expect(results.filter((statements) => statements.length > 0)).toHaveLength(1);
    expect(await columns('item')).toEqual([
      { name: 'id', type: 'uuid', notnull: true },
      { name: 'title', type: 'text', notnull: true },
      { name: 'qty', type: 'integer', notnull: true },
      { name: 'code', type: 'text', notnull: false },
      { name: 'version', type: 'integer', notnull: true },
      { name: 'created_at', type: 'timestamp with time zone', notnull: true },
      { name: 'updated_at', type: 'timestamp with time zone', notnull: true },
    ]);
    const { rows } = await db.query(`select relreplident from pg_class where relname = 'item'`);
    expect(rows[0].relreplident).toBe('f');
    expect(await syncEntitySchema(db, catalog)).toEqual([]);
  });

  it('adds new fields and indexes, and relaxes NOT NULL, on a table with rows', async () => {
    const repository = new EntityRepository(new EntityCatalog([entity(ITEM_V1)]));
    await db.transaction((tx) => repository.insert(tx, 'item', { title: 'kept' }));
    const statements = await syncEntitySchema(db, new EntityCatalog([entity(ITEM_V2)]));
    expect(statements).toEqual([
      'ALTER TABLE "item" ALTER COLUMN "title" DROP NOT NULL',
      'ALTER TABLE "item" ADD COLUMN "note" text',
      'ALTER TABLE "item" ADD COLUMN "weight" numeric(8,2) NOT NULL DEFAULT 0',
      'CREATE INDEX IF NOT EXISTS "item_note_idx" ON "item" USING btree ("note")',
    ]);
    const { rows } = await db.query(`select title, note, weight from item`);
    expect(rows).toEqual([{ title: 'kept', note: null, weight: '0.00' }]);
  });

  it('refuses destructive changes, says what to do, and changes nothing', async () => {
    const before = await columns('item');
    const v3 = entity(`
name: item
fields:
  title: { type: integer }
  qty: { type: integer, default: 1, required: true }
  code: { type: text, required: true, unique: true }
  weight: { type: decimal, precision: 8, scale: 2, required: true, default: 0 }
  serial: { type: text, required: true }
  extra: { type: text }
`);
    let error: unknown;
    try {
      await syncEntitySchema(db, new EntityCatalog([v3]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaSyncError);
    const refusals = (error as SchemaSyncError).refusals;
    expect(refusals).toHaveLength(4);
    expect(refusals[0]).toMatch(
      /item\.title is text in the database but integer in entities\/item\.yaml: convert it yourself \(ALTER TABLE "item" ALTER COLUMN "title" TYPE integer/,
    );
    expect(refusals[1]).toMatch(
      /item\.code is now required .* fill the NULLs, then run ALTER TABLE "item" ALTER COLUMN "code" SET NOT NULL/,
    );
    expect(refusals[2]).toMatch(
      /item\.serial is required with no default, but item has rows: give it a default/,
    );
    expect(refusals[3]).toMatch(
      /item\.note is in the database but not in entities\/item\.yaml: put the field back, or drop the column yourself .*DROP COLUMN "note"/,
    );
    // Refused as a whole: not even the harmless new column was added.
    expect(await columns('item')).toEqual(before);
  });

  it('writes join the caller’s transaction: a rollback undoes them, errors are typed', async () => {
    const catalog = new EntityCatalog([entity(ITEM_V2)]);
    const repository = new EntityRepository(catalog);
    const count = async () => Number((await db.query('select count(*)::int as n from item')).rows[0].n);
    const before = await count();
    await expect(
      db.transaction(async (tx) => {
        await repository.insert(tx, 'item', { title: 'undone', code: 'U-1' });
        // e.g. the outbox write of the events path failing after the row write
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(await count()).toBe(before);

    const row = await db.transaction((tx) => repository.insert(tx, 'item', { title: 'one', code: 'C-1' }));
    await expect(
      db.transaction((tx) => repository.insert(tx, 'item', { code: 'C-1' })),
    ).rejects.toMatchObject({
      code: 'conflict',
      field: 'code',
    });
    await expect(
      db.transaction((tx) => repository.insert(tx, 'item', { qty: 'many' })),
    ).rejects.toBeInstanceOf(EntityError);
    await expect(
      db.transaction((tx) => repository.update(tx, 'item', String(row.id), { qty: 5 }, { ifMatch: 7 })),
    ).rejects.toMatchObject({ code: 'stale' });
    const updated = await db.transaction((tx) =>
      repository.update(tx, 'item', String(row.id), { qty: 5 }, { ifMatch: 1 }),
    );
    expect(updated).toMatchObject({ qty: 5, version: 2 });
    expect(await repository.findById(db, 'item', String(row.id))).toMatchObject({ qty: 5, version: 2 });
  });

  describe('CDC publication', () => {
    const published = async (database: Database) =>
      (
        await database.query<{ tablename: string }>(
          `select tablename from pg_publication_tables where pubname = 'choreo' order by tablename`,
        )
      ).rows.map((row) => row.tablename);

    it('publishes a new table in the transaction that creates it, so its first row is captured', async () => {
      const fresh = new Database({ url: await pg.createDatabase('pub_new'), poolMax: 2 });
      try {
        // A slot that exists before the table: what it decodes shows whether the first insert was published.
        await fresh.query(`select pg_create_logical_replication_slot('probe', 'pgoutput')`);
        const statements = await syncEntitySchema(fresh, new EntityCatalog([entity(ITEM_V1)]), {
          publication: 'choreo',
        });
        expect(statements).toContain('CREATE PUBLICATION "choreo" FOR TABLE "item"');
        await fresh.query(`insert into item (title) values ('first')`);
        expect(await published(fresh)).toEqual(['item']);
        const { rows } = await fresh.query<{ n: number }>(
          `select count(*)::int as n from pg_logical_slot_peek_binary_changes('probe', null, null,
             'proto_version', '1', 'publication_names', 'choreo') where get_byte(data, 0) = ascii('I')`,
        );
        expect(rows[0].n).toBe(1);
        expect(
          await syncEntitySchema(fresh, new EntityCatalog([entity(ITEM_V1)]), { publication: 'choreo' }),
        ).toEqual([]);
        await fresh.query(`select pg_drop_replication_slot('probe')`);
      } finally {
        await fresh.close();
      }
    });

    it('adds tables to a publication the cdc-relay already created', async () => {
      const other = new Database({ url: await pg.createDatabase('pub_existing'), poolMax: 2 });
      try {
        await other.query('create publication choreo');
        const statements = await syncEntitySchema(other, new EntityCatalog([entity(ITEM_V1)]), {
          publication: 'choreo',
        });
        expect(statements).toContain('ALTER PUBLICATION "choreo" ADD TABLE "item"');
        expect(await published(other)).toEqual(['item']);
      } finally {
        await other.close();
      }
    });
  });
});
