import { authConfig, databaseConfig, httpConfig, logConfig, publicationConfig } from '@choreo/config';
import { entitiesConfig } from '@choreo/entities';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the crud app reads, validated at start-up. */
export const crudConfig = {
  http: httpConfig(3001),
  log: logConfig,
  database: databaseConfig,
  cdc: publicationConfig,
  auth: authConfig,
  entities: entitiesConfig,
};

export type CrudConfig = LoadedConfig<typeof crudConfig>;
