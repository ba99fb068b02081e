/// <reference types="jest" />
import Redis, { RedisOptions } from 'ioredis';
import { Pool, PoolConfig } from 'pg';
import { PostgresServer, PostgresServerOptions, startPostgres } from './postgres-server';
import { RedisServer, RedisServerOptions, startRedis } from './redis-server';

export interface SpecServersOptions {
  /** Start a redis-server (`true`, or its options). */
  redis?: boolean | RedisServerOptions;
  /** Start PostgreSQL (`true`, or its options; fsync is off unless the options say otherwise). */
  postgres?: boolean | PostgresServerOptions;
  /** Create this database on the PostgreSQL server; `databaseUrl` points at it. Default `postgres`. */
  database?: string;
}

/** The real servers of one spec file, started in `beforeAll` and stopped in `afterAll`. */
export interface SpecServers {
  readonly redis: RedisServer;
  readonly postgres: PostgresServer;
  /** URL of the spec's database (the one named in the options). */
  readonly databaseUrl: string;
  /** A client on the spec's Redis, created on first use and disconnected before the server stops. */
  readonly redisClient: Redis;
  /** Another Redis client (own options), disconnected before the server stops. Errors while a test
   *  kills the server are ignored; commands still fail or wait as their options say. */
  newRedisClient(options?: RedisOptions): Redis;
  /** A pg pool on the spec's database (or `url`), ended before the server stops. */
  pool(config?: PoolConfig): Pool;
  /** Runs `close` in `afterAll` before the servers stop (last registered, first run): apps, pools … */
  atStop(close: () => unknown): void;
}

/**
 * Starts the real Redis and/or PostgreSQL a spec file needs (beforeAll) and stops them (afterAll),
 * closing what the spec registered with `atStop` and the clients it made here first.
 */
export function useSpecServers(options: SpecServersOptions): SpecServers {
  let redis: RedisServer | undefined;
  let postgres: PostgresServer | undefined;
  let databaseUrl: string | undefined;
  let redisClient: Redis | undefined;
  const closers: Array<() => unknown> = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) {
      throw new Error(
        `useSpecServers: no ${what} (ask for it in the options; read it inside a test or hook)`,
      );
    }
    return value;
  };

  beforeAll(async () => {
    const settings = <T>(value: boolean | T | undefined): T | undefined =>
      value === undefined || value === false ? undefined : value === true ? ({} as T) : value;
    const redisOptions = settings<RedisServerOptions>(options.redis);
    const postgresOptions = settings<PostgresServerOptions>(options.postgres);
    [redis, postgres] = await Promise.all([
      redisOptions && startRedis(redisOptions),
      postgresOptions && startPostgres({ fsync: false, ...postgresOptions }),
    ]);
    if (postgres) {
      databaseUrl = options.database ? await postgres.createDatabase(options.database) : postgres.url;
    }
  });

  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // one failed close must not keep the servers running
      }
    }
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  const servers: SpecServers = {
    get redis() {
      return need(redis, 'redis server');
    },
    get postgres() {
      return need(postgres, 'postgres server');
    },
    get databaseUrl() {
      return need(databaseUrl, 'database');
    },
    get redisClient() {
      redisClient ??= servers.newRedisClient();
      return redisClient;
    },
    newRedisClient(clientOptions = {}) {
      const client = new Redis(servers.redis.url, clientOptions);
      client.on('error', () => undefined);
      closers.push(() => client.disconnect());
      return client;
    },
    pool(config = {}) {
      const pool = new Pool({ connectionString: servers.databaseUrl, ...config });
      // pool.end() resolves before its sockets close; the server stopping right after must not crash the run.
      pool.on('error', () => undefined);
      closers.push(() => pool.end());
      return pool;
    },
    atStop(close) {
      closers.push(close);
    },
  };
  return servers;
}
