import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { CdcRelayConfig } from './config';
import { RelayModule } from './relay/relay.module';

/** Change data capture: PostgreSQL WAL (pgoutput) to Redis Streams, exactly once. */
@Module({})
export class AppModule {
  static forRoot(config: CdcRelayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
        RelayModule.forRoot({
          databaseUrl: config.database.url,
          redisUrl: config.redis.url,
          cdc: config.cdc,
        }),
      ],
    };
  }
}
