import type { ClientBase } from 'pg';
import { ActionableError } from '@choreo/config';

/** What the relay publishes: every table named here goes to `cdc.<table>`. */
export interface PublicationOptions {
  publication: string;
  slot: string;
  /** Tables to publish (`name` or `schema.name`); `auto` = every table of `public` with REPLICA IDENTITY FULL. */
  tables: readonly string[] | 'auto';
}

/** A start-up check that failed; the message says what to change. The relay does not start. */
export class CdcSetupError extends ActionableError {
  constructor(message: string) {
    super(message);
    this.name = 'CdcSetupError';
  }
}

export interface PublishedTable {
  oid: number;
  schema: string;
  name: string;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
const qualified = (t: { schema: string; name: string }) => `${quote(t.schema)}.${quote(t.name)}`;

const IDENTITY: Record<string, string> = { d: 'DEFAULT', n: 'NOTHING', i: 'USING INDEX', f: 'FULL' };

/**
 * Checks what the relay needs and creates what is missing: wal_level=logical, the tables' replica
 * identity, the publication (created before the slot: a slot that starts before its publication
 * exists cannot decode), then the pgoutput slot. Throws CdcSetupError naming what to change.
 */
export async function prepareReplication(
  db: ClientBase,
  options: PublicationOptions,
): Promise<PublishedTable[]> {
  const { rows: walRows } = await db.query<{ wal_level: string }>(
    `select current_setting('wal_level') as wal_level`,
  );
  if (walRows[0].wal_level !== 'logical') {
    throw new CdcSetupError(
      `wal_level is '${walRows[0].wal_level}', the relay needs 'logical': run ALTER SYSTEM SET wal_level = logical ` +
        `(or set it in postgresql.conf) and restart PostgreSQL`,
    );
  }
  const tables = await syncPublication(db, options);
  await ensureSlot(db, options.slot);
  return tables;
}

/**
 * Makes the publication exist and publish the wanted tables, adding tables that are missing (never
 * removing any). In `auto` mode, call it again from time to time to pick up new entity tables.
 */
export async function syncPublication(
  db: ClientBase,
  options: PublicationOptions,
): Promise<PublishedTable[]> {
  const wanted = await wantedTables(db, options.tables);
  const { rows: pubs } = await db.query<{
    pubinsert: boolean;
    pubupdate: boolean;
    pubdelete: boolean;
    puballtables: boolean;
  }>(`select pubinsert, pubupdate, pubdelete, puballtables from pg_publication where pubname = $1`, [
    options.publication,
  ]);
  if (pubs.length > 0) {
    const missing = (['insert', 'update', 'delete'] as const).filter(
      (op) => !pubs[0][`pub${op}` as 'pubinsert' | 'pubupdate' | 'pubdelete'],
    );
    if (missing.length > 0) {
      throw new CdcSetupError(
        `publication "${options.publication}" does not publish ${missing.join(', ')}: run ` +
          `ALTER PUBLICATION ${quote(options.publication)} SET (publish = 'insert, update, delete, truncate')`,
      );
    }
  }
  const published = pubs.length > 0 ? await publishedTables(db, options.publication) : [];
  const have = new Set(published.map((t) => t.oid));
  // FOR ALL TABLES already publishes everything; tables cannot be added to it.
  const adding = pubs[0]?.puballtables ? [] : wanted.filter((t) => !have.has(t.oid));
  // Checked before anything is changed, so a refused start leaves the database as it was.
  await checkReplicaIdentity(db, [...published, ...adding]);
  if (pubs.length === 0) {
    await ignoring('42710', () => db.query(`create publication ${quote(options.publication)}`));
  }
  for (const table of adding) {
    // Another relay replica may add it at the same moment: "already member" (42710) is success.
    await ignoring('42710', () =>
      db.query(`alter publication ${quote(options.publication)} add table ${qualified(table)}`),
    );
    published.push(table);
  }
  return published;
}

async function wantedTables(db: ClientBase, tables: readonly string[] | 'auto'): Promise<PublishedTable[]> {
  if (tables === 'auto') {
    const { rows } = await db.query<PublishedTable>(
      `select c.oid::int as oid, n.nspname as schema, c.relname as name
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relreplident = 'f' and not c.relispartition
        order by c.relname`,
    );
    return rows;
  }
  const found: PublishedTable[] = [];
  for (const spec of tables) {
    const [schema, name] = spec.includes('.') ? spec.split('.', 2) : ['public', spec];
    const { rows } = await db.query<PublishedTable>(
      `select c.oid::int as oid, n.nspname as schema, c.relname as name
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`,
      [schema, name],
    );
    if (rows.length === 0) {
      throw new CdcSetupError(`CDC_TABLES names ${schema}.${name}, which is not a table in this database`);
    }
    found.push(rows[0]);
  }
  return found;
}

async function publishedTables(db: ClientBase, publication: string): Promise<PublishedTable[]> {
  const { rows } = await db.query<PublishedTable>(
    `select c.oid::int as oid, t.schemaname as schema, t.tablename as name
       from pg_publication_tables t
       join pg_namespace n on n.nspname = t.schemaname
       join pg_class c on c.relnamespace = n.oid and c.relname = t.tablename
      where t.pubname = $1`,
    [publication],
  );
  return rows;
}

async function checkReplicaIdentity(db: ClientBase, tables: readonly PublishedTable[]): Promise<void> {
  if (tables.length === 0) return;
  const { rows } = await db.query<{ schema: string; name: string; relreplident: string }>(
    `select n.nspname as schema, c.relname as name, c.relreplident
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = any($1::oid[]) and c.relreplident <> 'f'`,
    [tables.map((t) => t.oid)],
  );
  if (rows.length > 0) {
    const fixes = rows.map((t) => `ALTER TABLE ${qualified(t)} REPLICA IDENTITY FULL;`).join(' ');
    const found = rows.map((t) => `${t.schema}.${t.name} (${IDENTITY[t.relreplident] ?? t.relreplident})`);
    throw new CdcSetupError(
      `published tables need REPLICA IDENTITY FULL for before-images, these have another: ${found.join(', ')}. Run: ${fixes}`,
    );
  }
}

async function ensureSlot(db: ClientBase, slot: string): Promise<void> {
  const { rows } = await db.query<{
    plugin: string | null;
    database: string | null;
    wal_status: string | null;
  }>(`select plugin, database, wal_status from pg_replication_slots where slot_name = $1`, [slot]);
  if (rows.length === 0) {
    await ignoring('42710', () =>
      db.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]),
    );
    return;
  }
  const [existing] = rows;
  const { rows: here } = await db.query<{ db: string }>(`select current_database() as db`);
  if (existing.plugin !== 'pgoutput' || existing.database !== here[0].db) {
    throw new CdcSetupError(
      `replication slot "${slot}" exists but is not a pgoutput slot of database "${here[0].db}" ` +
        `(plugin ${existing.plugin ?? 'none'}, database ${existing.database ?? 'none'}): set CDC_SLOT to another name`,
    );
  }
  if (existing.wal_status === 'lost') {
    throw new CdcSetupError(
      `replication slot "${slot}" was invalidated (wal_status 'lost': the WAL it needed is gone, see ` +
        `max_slot_wal_keep_size), so changes since its last confirmed LSN cannot be relayed. The relay never ` +
        `drops a slot: follow "A lost slot" in docs/cdc.md`,
    );
  }
}

/** The slot's confirmed position: where a new session starts and what was last acknowledged. */
export async function confirmedFlushLsn(db: ClientBase, slot: string): Promise<string | null> {
  const { rows } = await db.query<{ lsn: string | null }>(
    `select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1`,
    [slot],
  );
  return rows[0]?.lsn ?? null;
}

/** Primary key columns (in key order) of the given tables, by table oid. */
export async function primaryKeys(db: ClientBase, oids: readonly number[]): Promise<Map<number, string[]>> {
  const { rows } = await db.query<{ oid: number; columns: string[] }>(
    `select i.indrelid::int as oid, array_agg(a.attname::text order by k.ord) as columns
       from pg_index i
       cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indisprimary and i.indrelid = any($1::oid[])
      group by i.indrelid`,
    [oids],
  );
  const keys = new Map<number, string[]>(oids.map((oid) => [oid, []]));
  for (const row of rows) keys.set(row.oid, row.columns);
  return keys;
}

async function ignoring(sqlState: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if ((error as { code?: string }).code !== sqlState) throw error;
  }
}
