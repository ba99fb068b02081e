import { APP_PORTS } from '@choreo/contracts';
import { databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';
import { cdcConfig } from '@choreo/cdc';

/** Every environment variable the cdc-relay app reads, validated at start-up. */
export const cdcRelayConfig = {
  http: httpConfig(APP_PORTS['cdc-relay']),
  log: logConfig,
  database: databaseConfig,
  redis: redisConfig,
  cdc: cdcConfig,
};

export type CdcRelayConfig = LoadedConfig<typeof cdcRelayConfig>;
