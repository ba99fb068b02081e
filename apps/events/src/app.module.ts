import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { EventsConfig } from './config';

/** The events path: entity writes and the orders domain, each with its event in one transaction (outbox). */
@Module({})
export class AppModule {
  static forRoot(config: EventsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
      ],
    };
  }
}
