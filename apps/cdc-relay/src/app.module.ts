import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { CdcRelayConfig } from './config';

/** Change data capture: PostgreSQL WAL (pgoutput) to Redis Streams, exactly once. */
@Module({})
export class AppModule {
  static forRoot(config: CdcRelayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
      ],
    };
  }
}
