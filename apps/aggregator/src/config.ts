import { databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the aggregator app reads, validated at start-up. */
export const aggregatorConfig = {
  http: httpConfig(3004),
  log: logConfig,
  database: databaseConfig,
  redis: redisConfig,
};

export type AggregatorConfig = LoadedConfig<typeof aggregatorConfig>;
