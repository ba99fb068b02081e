import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { AggregatorConfig } from './config';

/** Windowed aggregates over the streams (orders/min, revenue, delivery time). */
@Module({})
export class AppModule {
  static forRoot(config: AggregatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
      ],
    };
  }
}
