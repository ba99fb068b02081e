import { APP_PORTS } from '@choreo/contracts';
import { authConfig, databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';
import { entitiesConfig } from '@choreo/entities';
import { trackingConfig } from '@choreo/http';
import { mongoConfig, realtimeConfig } from './realtime.config';

/** Every environment variable the notifications app reads, validated at start-up. */
export const notificationsConfig = {
  http: httpConfig(APP_PORTS.notifications),
  log: logConfig,
  redis: redisConfig,
  database: databaseConfig,
  mongo: mongoConfig,
  auth: authConfig,
  tracking: trackingConfig,
  entities: entitiesConfig,
  realtime: realtimeConfig,
};

export type NotificationsConfig = LoadedConfig<typeof notificationsConfig>;
