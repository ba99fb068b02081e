import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { CrudConfig } from './config';
import { CrudModule } from './crud/crud.module';

/** REST CRUD over the declared entities (/crud/:entity); CDC publishes its changes. */
@Module({})
export class AppModule {
  static forRoot(config: CrudConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url }),
        CrudModule.forRoot({
          entitiesDir: config.entities.dir,
          database: config.database,
          publication: config.cdc.publication,
          auth: { ...config.auth, jwt: config.jwt },
          rateLimit: config.rateLimit.reads || config.rateLimit.writes ? config.rateLimit : undefined,
        }),
      ],
    };
  }
}
