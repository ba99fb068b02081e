import Redis, { RedisOptions } from 'ioredis';

/** Options for the connections this lib opens. */
export interface StreamsConnectionOptions {
  /** Shown by `CLIENT LIST`, so an operator can tell the consumer's connections apart. */
  connectionName?: string;
  /** Longest pause between reconnect attempts. */
  maxReconnectDelayMs?: number;
}

/**
 * An ioredis connection that never gives up: it reconnects with capped exponential backoff and queues
 * commands while offline (no per-command retry limit), so a Redis restart pauses work instead of failing it.
 */
export function createStreamsConnection(url: string, options: StreamsConnectionOptions = {}): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const redisOptions: RedisOptions = {
    connectionName: options.connectionName,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(maxDelay, 50 * 2 ** Math.min(times, 10)),
  };
  return new Redis(url, redisOptions);
}

/** True when Redis rejected a command because the consumer group (or its stream) does not exist. */
export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}
