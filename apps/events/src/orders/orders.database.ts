import { Pool, PoolClient } from 'pg';

/** Stand-in for libs/persistence's Database until it lands: a pool, transactions, locked migrations. */
export class OrdersDatabase {
  readonly pool: Pool;

  constructor(url: string, poolMax = 10) {
    this.pool = new Pool({ connectionString: url, max: poolMax });
    // An idle client losing its connection must not crash the process; the next checkout reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Runs `work` in one transaction: commit when it resolves, roll back when it throws. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Applies idempotent DDL once per cluster at a time (transaction-scoped advisory lock). */
  async migrate(owner: string, statements: readonly string[]): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`choreo.migrate.${owner}`]);
      for (const statement of statements) await client.query(statement);
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
