import { databaseConfig, httpConfig, logConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';

/** Every environment variable the crud app reads, validated at start-up. */
export const crudConfig = {
  http: httpConfig(3001),
  log: logConfig,
  database: databaseConfig,
};

export type CrudConfig = LoadedConfig<typeof crudConfig>;
