import { Database } from './database';

/** One lock for every schema change (migrations and entity sync), so no two DDL runs interleave. */
export const SCHEMA_LOCK = 'choreo:schema';

/** One forward-only schema change of an app, identified by a stable id (`001_orders`). */
export interface Migration {
  id: string;
  sql: string;
}

/**
 * Applies the `migrations` of `owner` not applied yet, in order, each in its own transaction with
 * its bookkeeping row, under an advisory lock so replicas starting together do not race.
 * Returns the ids applied by this call.
 */
export async function migrate(db: Database, owner: string, migrations: Migration[]): Promise<string[]> {
  return db.withAdvisoryLock(SCHEMA_LOCK, async (client) => {
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         owner text NOT NULL,
         id text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (owner, id)
       )`,
    );
    const { rows } = await client.query<{ id: string }>('SELECT id FROM schema_migrations WHERE owner = $1', [
      owner,
    ]);
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (owner, id) VALUES ($1, $2)', [
          owner,
          migration.id,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${owner}/${migration.id} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      applied.push(migration.id);
    }
    return applied;
  });
}
