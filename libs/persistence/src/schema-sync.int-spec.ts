import { EntityCatalog, EntityError, EntityModel, parseEntity } from '@choreo/entities';
import { useSpecServers } from '@choreo/testing';
import { Database } from './database';
import { EntityRepository, translateWriteError } from './entity.repository';
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
  const servers = useSpecServers({ postgres: true, database: 'sync' });
  let db: Database;

  beforeAll(() => {
    db = new Database({ url: servers.databaseUrl, poolMax: 4 });
    servers.atStop(() => db.close());
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
      new Database({ url: servers.postgres.urlFor('sync'), poolMax: 1 }),
      new Database({ url: servers.postgres.urlFor('sync'), poolMax: 1 }),
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

  describe('CHECK constraints from the field rules', () => {
    let checked: Database;

    const GAUGE = (rules: { levelMax: number; modes: string; labelMax?: string; extra?: string }) => `
name: gauge
fields:
  label: { type: text, minLength: 2${rules.labelMax ?? ', maxLength: 5'} }
  level: { type: integer, min: 0, max: ${rules.levelMax} }
  big: { type: bigint, min: -5 }
  ratio: { type: decimal, precision: 6, scale: 3, min: 0.5, max: 99.5 }
  mode: { type: enum, values: [${rules.modes}] }
  code: { type: text, pattern: '[A-Z]+' }
${rules.extra ?? ''}`;
    const catalogOf = (yaml: string) => new EntityCatalog([entity(yaml, 'entities/gauge.yaml')]);
    const V1 = GAUGE({ levelMax: 10, modes: 'on, off' });

    beforeAll(async () => {
      checked = new Database({ url: await servers.postgres.createDatabase('checks'), poolMax: 2 });
    });
    afterAll(async () => {
      await checked?.close();
    });

    const constraints = async () =>
      (
        await checked.query<{ name: string; def: string }>(
          `select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
            where conrelid = 'gauge'::regclass and contype = 'c' order by conname`,
        )
      ).rows;
    const rules = async () => (await constraints()).map((c) => c.name.replace(/_[0-9a-f]{8}$/, '_<hash>'));

    it('creates one named CHECK per rule (none for pattern); a raw INSERT that breaks one fails', async () => {
      await syncEntitySchema(checked, catalogOf(V1));
      expect(await rules()).toEqual([
        'gauge_big_min_<hash>',
        'gauge_label_max_length_<hash>',
        'gauge_label_min_length_<hash>',
        'gauge_level_max_<hash>',
        'gauge_level_min_<hash>',
        'gauge_mode_enum_<hash>',
        'gauge_ratio_max_<hash>',
        'gauge_ratio_min_<hash>',
      ]);
      const breaking: [string, unknown][] = [
        ['label', 'x'],
        ['label', 'toolong'],
        ['level', -1],
        ['level', 11],
        ['big', -6],
        ['ratio', '0.499'],
        ['ratio', '99.501'],
        ['mode', 'dim'],
      ];
      for (const [column, value] of breaking) {
        await expect(
          checked.query(`insert into gauge (${column}) values ($1)`, [value]),
        ).rejects.toMatchObject({ code: '23514', table: 'gauge' });
      }
      // At the bounds, NULLs, five emoji (five characters, ten UTF-16 units) and an unchecked pattern.
      await checked.query(
        `insert into gauge (label, level, big, ratio, mode, code) values ('😀😀😀😀😀', 10, -5, 0.5, 'off', 'lower')`,
      );
      await checked.query(`insert into gauge (level) values (null)`);
      expect(await syncEntitySchema(checked, catalogOf(V1))).toEqual([]);
    });

    it('maps a CHECK violation reaching the repository to invalid, naming the field', async () => {
      const repository = new EntityRepository(catalogOf(V1));
      // The app agrees with the constraint on code points: five emoji are five characters.
      await expect(repository.insert(checked, 'gauge', { label: '😀😀😀😀😀' })).resolves.toMatchObject({
        label: '😀😀😀😀😀',
      });
      // A replica still on an older, looser definition gets past the app's validation, not the table's.
      const older = new EntityRepository(catalogOf(GAUGE({ levelMax: 100, modes: 'on, off, dim' })));
      await expect(older.insert(checked, 'gauge', { level: 50 })).rejects.toMatchObject({
        code: 'invalid',
        problems: [
          { field: 'level', message: expect.stringMatching(/^breaks the database's rule gauge_level_max_/) },
        ],
      });
      await expect(older.insert(checked, 'gauge', { mode: 'dim' })).rejects.toMatchObject({
        code: 'invalid',
        problems: [{ field: 'mode', message: expect.stringMatching(/gauge_mode_enum_/) }],
      });
      // Same definition as the table, with its own validation bypassed: the constraint's own words.
      const sameDefinition = catalogOf(V1).get('gauge');
      const error = await checked.query(`update gauge set ratio = 100`).catch((e: unknown) => e);
      expect(translateWriteError(sameDefinition, error)).toMatchObject({
        code: 'invalid',
        problems: [{ field: 'ratio', message: 'must be <= 99.5' }],
      });
    });

    it('replaces a changed rule, drops a removed one, and leaves hand-made checks alone', async () => {
      await checked.query(`alter table gauge add constraint gauge_by_hand check (big is distinct from 13)`);
      const before = await constraints();
      const V2 = GAUGE({ levelMax: 20, modes: 'on, off, auto', labelMax: '' });
      const statements = await syncEntitySchema(checked, catalogOf(V2));
      const named = (name: string) => before.find((c) => c.name.startsWith(name))!.name;
      expect(statements).toEqual([
        `ALTER TABLE "gauge" DROP CONSTRAINT "${named('gauge_label_max_length_')}"`,
        `ALTER TABLE "gauge" DROP CONSTRAINT "${named('gauge_level_max_')}"`,
        `ALTER TABLE "gauge" DROP CONSTRAINT "${named('gauge_mode_enum_')}"`,
        expect.stringMatching(
          /^ALTER TABLE "gauge" ADD CONSTRAINT "gauge_level_max_[0-9a-f]{8}" CHECK \("level" <= 20\) NOT VALID$/,
        ),
        expect.stringMatching(
          /^ALTER TABLE "gauge" ADD CONSTRAINT "gauge_mode_enum_[0-9a-f]{8}" CHECK \("mode" IN \('on', 'off', 'auto'\)\) NOT VALID$/,
        ),
        // Validated after the commit, under a lock that lets reads and writes go on.
        expect.stringMatching(/^ALTER TABLE "gauge" VALIDATE CONSTRAINT "gauge_level_max_[0-9a-f]{8}"$/),
        expect.stringMatching(/^ALTER TABLE "gauge" VALIDATE CONSTRAINT "gauge_mode_enum_[0-9a-f]{8}"$/),
      ]);
      const { rows: unvalidated } = await checked.query(
        `select conname from pg_constraint where conrelid = 'gauge'::regclass and not convalidated`,
      );
      expect(unvalidated).toEqual([]);
      expect(await rules()).toEqual([
        'gauge_big_min_<hash>',
        'gauge_by_hand',
        'gauge_label_min_length_<hash>',
        'gauge_level_max_<hash>',
        'gauge_level_min_<hash>',
        'gauge_mode_enum_<hash>',
        'gauge_ratio_max_<hash>',
        'gauge_ratio_min_<hash>',
      ]);
      await checked.query(`insert into gauge (level, mode, label) values (15, 'auto', 'longer than five')`);
      expect(await syncEntitySchema(checked, catalogOf(V2))).toEqual([]);
    });

    it('refuses a tightened rule that rows break, saying how many and what to do, and changes nothing', async () => {
      await checked.query(`insert into gauge (level) values (18), (12)`);
      const before = await constraints();
      const gaugeColumns = async () =>
        (
          await checked.query(
            `select attname from pg_attribute where attrelid = 'gauge'::regclass and attnum > 0`,
          )
        ).rows;
      const columnsBefore = await gaugeColumns();
      const V3 = GAUGE({
        levelMax: 12,
        modes: 'on, off',
        labelMax: '',
        extra: 'indexes:\n  - fields: [level]\n',
      }).replace('code: {', 'note: { type: text }\n  code: {');
      let error: unknown;
      try {
        await syncEntitySchema(checked, catalogOf(V3));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SchemaSyncError);
      expect((error as SchemaSyncError).refusals).toEqual([
        'gauge.level: 2 rows break max: 12 (must be <= 12) of entities/gauge.yaml: fix or delete them ' +
          '(SELECT * FROM "gauge" WHERE NOT ("level" <= 12)), or relax the rule',
        `gauge.mode: 1 row breaks values: [on, off] (must be one of on, off) of entities/gauge.yaml: fix or delete it ` +
          `(SELECT * FROM "gauge" WHERE NOT ("mode" IN ('on', 'off'))), or relax the rule`,
      ]);
      expect((error as Error).message).toMatch(/nothing was changed/);
      // Not even the harmless new column and index, nor the drop of the looser rules.
      expect(await constraints()).toEqual(before);
      expect(await gaugeColumns()).toEqual(columnsBefore);
      const { rows } = await checked.query(
        `select 1 from pg_indexes where tablename = 'gauge' and indexname = 'gauge_level_idx'`,
      );
      expect(rows).toEqual([]);
    });

    it('checks a rule on a field added in the same sync against the default it fills rows with', async () => {
      // Back to V1, without the rows of the previous tests that break it.
      await checked.query(`delete from gauge where level > 10 or mode = 'auto' or char_length(label) > 5`);
      await syncEntitySchema(checked, catalogOf(V1));
      const rows = Number((await checked.query(`select count(*) from gauge`)).rows[0].count);
      const withGrade = (min: number) =>
        V1.replace('code: {', `grade: { type: integer, default: 3, min: ${min} }\n  code: {`);
      const error = await syncEntitySchema(checked, catalogOf(withGrade(5))).catch((e: unknown) => e);
      expect((error as SchemaSyncError).refusals).toEqual([
        expect.stringMatching(new RegExp(`^gauge\\.grade: ${rows} rows break min: 5 \\(must be >= 5\\)`)),
      ]);
      const grade = `select 1 from pg_attribute where attrelid = 'gauge'::regclass and attname = 'grade' and not attisdropped`;
      expect((await checked.query(grade)).rowCount).toBe(0);
      const statements = await syncEntitySchema(checked, catalogOf(withGrade(2)));
      expect(statements).toContainEqual(expect.stringMatching(/VALIDATE CONSTRAINT "gauge_grade_min_/));
      expect((await checked.query(grade)).rowCount).toBe(1);
      await checked.query(`alter table gauge drop column grade`);
    });

    it('validates a rule an interrupted sync left NOT VALID, and refuses while rows break it', async () => {
      const levelMax = (await constraints()).find((c) => c.name.startsWith('gauge_level_max_'))!;
      // As a sync cut off between its commit and the validation leaves it, with a row that breaks it.
      await checked.query(`alter table gauge drop constraint "${levelMax.name}"`);
      await checked.query(`insert into gauge (level) values (11)`);
      await checked.query(`alter table gauge add constraint "${levelMax.name}" ${levelMax.def} not valid`);
      const error = await syncEntitySchema(checked, catalogOf(V1)).catch((e: unknown) => e);
      expect((error as SchemaSyncError).refusals).toEqual([
        expect.stringMatching(/^gauge\.level: 1 row breaks max: 10 /),
      ]);
      await checked.query(`delete from gauge where level = 11`);
      expect(await syncEntitySchema(checked, catalogOf(V1))).toEqual([
        `ALTER TABLE "gauge" VALIDATE CONSTRAINT "${levelMax.name}"`,
      ]);
      const { rows } = await checked.query(`select convalidated from pg_constraint where conname = $1`, [
        levelMax.name,
      ]);
      expect(rows).toEqual([{ convalidated: true }]);
    });
  });

  describe('CDC publication', () => {
    const published = async (database: Database) =>
      (
        await database.query<{ tablename: string }>(
          `select tablename from pg_publication_tables where pubname = 'choreo' order by tablename`,
        )
      ).rows.map((row) => row.tablename);

    it('publishes a new table in the transaction that creates it, so its first row is captured', async () => {
      const fresh = new Database({ url: await servers.postgres.createDatabase('pub_new'), poolMax: 2 });
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
      const other = new Database({ url: await servers.postgres.createDatabase('pub_existing'), poolMax: 2 });
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
