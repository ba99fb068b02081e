export { freePort, waitFor } from './process-group';
export { startRedis, assertRedisServerInstalled } from './redis-server';
export type { RedisServer, RedisServerOptions } from './redis-server';
export { blockedAncestor, postgresRunAs, startPostgres } from './postgres-server';
export type { PostgresServer, PostgresServerOptions } from './postgres-server';
export { jsonClient } from './json-client';
export type { JsonCall, JsonReply } from './json-client';
export { useSpecServers } from './spec-servers';
export type { SpecServers, SpecServersOptions } from './spec-servers';
