import type Redis from 'ioredis';
import { createRedis } from '@choreo/redis';

/** Options for the connections this lib opens. */
export interface StreamsConnectionOptions {
  /** Shown by `CLIENT LIST`, so an operator can tell the consumer's connections apart. */
  connectionName?: string;
}

/** A `worker` connection (see `createRedis`); kept for the callers written before it. */
export function createStreamsConnection(url: string, options: StreamsConnectionOptions = {}): Redis {
  return createRedis(url, 'worker', options);
}

/** True when Redis rejected a command because the consumer group (or its stream) does not exist. */
export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}
