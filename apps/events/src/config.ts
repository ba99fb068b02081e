import { APP_PORTS } from '@choreo/contracts';
import { authConfig, databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import { jwtConfig, rateLimitConfig, trackingConfig } from '@choreo/http';
import { entitiesConfig } from '@choreo/entities';
import { deadLetterConfig } from '@choreo/streams';
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
  // events owns the retention of dead-letters (one owner: its replicas may all run it, harmlessly).
  deadLetters: deadLetterConfig,
};

export type EventsConfig = LoadedConfig<typeof eventsConfig>;
