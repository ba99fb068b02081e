import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { NotificationsConfig } from './config';
import { LivePageModule } from './live-page/live-page.module';
import type { Realtime } from './realtime';
import { RealtimeModule } from './realtime.module';

/** Real-time delivery: WebSocket and SSE channels for order tracking, entity changes and aggregates. */
@Module({})
export class AppModule {
  static forRoot(config: NotificationsConfig, realtime: Realtime): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ redisUrl: config.redis.url, databaseUrl: config.database.url }),
        RealtimeModule.forRoot(realtime),
        LivePageModule.fromEnv(),
      ],
    };
  }
}
