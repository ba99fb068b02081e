import { httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the notifications app reads, validated at start-up. */
export const notificationsConfig = {
  http: httpConfig(3005),
  log: logConfig,
  redis: redisConfig,
};

export type NotificationsConfig = LoadedConfig<typeof notificationsConfig>;
