import { httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the simulator app reads, validated at start-up. */
export const simulatorConfig = {
  http: httpConfig(3006),
  log: logConfig,
  redis: redisConfig,
};

export type SimulatorConfig = LoadedConfig<typeof simulatorConfig>;
