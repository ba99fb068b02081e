import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import { loadEntities } from '@choreo/entities';
import { ChoreographyModule } from './choreography/choreography.module';
import type { EventsConfig } from './config';
import { EntityEventsModule } from './entity-events/entity-events.module';
import { OrdersModule } from './orders/orders.module';
import { EventsPlatformModule } from './platform/events-platform.module';

/** The events path: entity writes and the orders domain, each with its event in one transaction (outbox). */
@Module({})
export class AppModule {
  static forRoot(config: EventsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
        EventsPlatformModule.forRoot({
          database: config.database,
          auth: { ...config.auth, jwt: config.jwt },
          rateLimit: config.rateLimit,
        }),
        OrdersModule.forRoot({ tracking: config.tracking }),
        EntityEventsModule.forRoot({ catalog: loadEntities(config.entities.dir) }),
        ChoreographyModule,
      ],
    };
  }
}
