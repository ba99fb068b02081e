import Redis, { RedisOptions } from 'ioredis';
import { BACKOFF, backoffDelayMs } from './backoff';

/**
 * What a connection is for, which decides how it behaves while Redis is away:
 * - `worker`: consumers, publishers, the CDC relay. Never gives up: commands wait in the offline queue
 *   (no per-command retry limit), so a Redis restart pauses work instead of failing it.
 * - `probe`: readiness checks. Fails at once while Redis is down (no queue, one try), so `/readyz` says so.
 * - `cli`: a command-line tool. Connects when asked (`connect()`), one retry per command, then fails
 *   with the error so the tool can say which URL it could not reach.
 */
export type RedisRole = 'worker' | 'probe' | 'cli';

export interface RedisClientOptions {
  /** Shown by `CLIENT LIST`, so an operator can tell the connections apart. */
  connectionName?: string;
  /** Connect on `connect()` or the first command instead of at once. */
  lazyConnect?: boolean;
}

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  probe: { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true },
  cli: { maxRetriesPerRequest: 1, lazyConnect: true },
};

/**
 * The one way choreo builds a Redis client: every role reconnects with `BACKOFF.redisReconnect`.
 * Callers that must not crash on a connection error attach their own `error` listener.
 */
export function createRedis(url: string, role: RedisRole, options: RedisClientOptions = {}): Redis {
  return new Redis(url, {
    ...ROLE_OPTIONS[role],
    ...(options.lazyConnect === undefined ? {} : { lazyConnect: options.lazyConnect }),
    connectionName: options.connectionName,
    retryStrategy: (times) => backoffDelayMs(times, BACKOFF.redisReconnect),
  });
}
