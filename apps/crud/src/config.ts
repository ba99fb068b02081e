import { APP_PORTS } from '@choreo/contracts';
import { authConfig, databaseConfig, httpConfig, logConfig, publicationConfig } from '@choreo/config';
import { entitiesConfig } from '@choreo/entities';
import { jwtConfig, rateLimitConfig } from '@choreo/http';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the crud app reads, validated at start-up. */
export const crudConfig = {
  http: httpConfig(APP_PORTS.crud),
  log: logConfig,
  database: databaseConfig,
  cdc: publicationConfig,
  auth: authConfig,
  jwt: jwtConfig,
  rateLimit: rateLimitConfig,
  entities: entitiesConfig,
};

export type CrudConfig = LoadedConfig<typeof crudConfig>;
