export { BACKOFF, backoffDelayMs } from './backoff';
export type { Backoff } from './backoff';
export { createRedis } from './redis-client';
export type { RedisClientOptions, RedisRole } from './redis-client';
