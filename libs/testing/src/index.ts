export { freePort, spawnGroup, stopGroup, waitFor } from './process-group';
export { startRedis, assertRedisServerInstalled } from './redis-server';
export type { RedisServer, RedisServerOptions } from './redis-server';
export { blockedAncestor, postgresRunAs, startPostgres } from './postgres-server';
export type { PostgresServer, PostgresServerOptions } from './postgres-server';
export { jsonClient } from './json-client';
export type { JsonCall, JsonReply } from './json-client';
export { useSpecServers } from './spec-servers';
export type { SpecServers, SpecServersOptions } from './spec-servers';
export { findPromtool, promtoolProblems } from './promtool';
export { startTestJwks } from './test-jwks';
export type { TestJwks, TestJwtOptions } from './test-jwks';
export { lintOpenApi, probeContract, servedOpenApi } from './openapi-contract';
export type { ContractCase, DocumentedPaths } from './openapi-contract';
export {
  POSTGREST_OPERATORS,
  deepJson,
  fuzzContentType,
  fuzzMethod,
  fuzzRequest,
  fuzzRoutes,
  hostileOperand,
  hostileSegment,
  hostileText,
  hugeJson,
  postgrestFilter,
  postgrestHeaders,
  send,
  tableDigests,
} from './http-fuzz';
export type { FuzzAnswer, FuzzRequest, FuzzRoutesOptions } from './http-fuzz';
