import { databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';
import { cdcConfig } from '@choreo/cdc';

/** Every environment variable the cdc-relay app reads, validated at start-up. */
export const cdcRelayConfig = {
  http: httpConfig(3003),
  log: logConfig,
  database: databaseConfig,
  redis: redisConfig,
  cdc: cdcConfig,
};

export type CdcRelayConfig = LoadedConfig<typeof cdcRelayConfig>;
