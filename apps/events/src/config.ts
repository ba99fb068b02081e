import { APP_PORTS } from '@choreo/contracts';
import { authConfig, databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import { jwtConfig, rateLimitConfig, trackingConfig } from '@choreo/http';
import { entitiesConfig } from '@choreo/entities';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the events app reads, validated at start-up. */
export const eventsConfig = {
  http: httpConfig(APP_PORTS.events),
  log: logConfig,
  database: databaseConfig,
  redis: redisConfig,
  auth: authConfig,
  jwt: jwtConfig,
  rateLimit: rateLimitConfig,
  entities: entitiesConfig,
  tracking: trackingConfig,
};

export type EventsConfig = LoadedConfig<typeof eventsConfig>;
