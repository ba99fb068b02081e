import { Pool, PoolClient, QueryResult, QueryResultRow, types } from 'pg';

/** Something that runs a query: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** A transaction's connection: pass it to repository writes so they join the transaction. */
export type Tx = PoolClient;

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  /** Shows in pg_stat_activity. */
  applicationName?: string;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
  /** Re-runs `fn` this many times on a serialization failure or deadlock (40001, 40P01). */
  retries?: number;
  /** `SET LOCAL statement_timeout`, in milliseconds. */
  statementTimeoutMs?: number;
}

const DATE_OID = 1082;

// A `date` is a calendar day, not an instant: keep PostgreSQL's text ('2026-01-31') instead of a
// JS Date at local midnight, which shifts by the server's time zone.
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID
      ? (value: string) => value
      : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

const RETRYABLE = new Set(['40001', '40P01']);

/** The PostgreSQL pool of an app, with transactions done right. */
export class Database implements Queryable {
  readonly pool: Pool;

  constructor(options: DatabaseOptions) {
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      application_name: options.applicationName,
      types: typeParsers,
    });
    // An idle client losing its server (restart, failover) must not crash the process; the next
    // query reconnects and readiness reports the outage meanwhile.
    this.pool.on('error', () => undefined);
  }

  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /**
   * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws (the error is rethrown). With `retries`, serialization failures re-run `fn` whole.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const attempts = (options.retries ?? 0) + 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(fn, options);
      } catch (error) {
        if (attempt >= attempts || !RETRYABLE.has(sqlState(error) ?? '')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  private async runOnce<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      const modes = [
        options.isolation ? `ISOLATION LEVEL ${options.isolation.toUpperCase()}` : '',
        options.readOnly ? 'READ ONLY' : '',
      ].filter(Boolean);
      await client.query(`BEGIN${modes.length ? ` ${modes.join(' ')}` : ''}`);
      if (options.statementTimeoutMs !== undefined) {
        await client.query(
          `SET LOCAL statement_timeout = ${Math.max(0, Math.floor(options.statementTimeoutMs))}`,
        );
      }
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: do not hand it back to the pool.
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Runs `fn` while holding a session advisory lock named `name`, so that replicas starting at
   * once take turns (schema sync, migrations). Waits for the lock.
   */
  async withAdvisoryLock<T>(name: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [name]);
      try {
        return await fn(client);
      } finally {
        // A session lock dies with its connection; if unlocking fails, discard the connection.
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** Whether the server answers; for readiness. */
  async ping(): Promise<boolean> {
    const { rows } = await this.pool.query<{ ok: number }>('SELECT 1 AS ok');
    return rows[0]?.ok === 1;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
