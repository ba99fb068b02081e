import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import { StreamsModule } from '@choreo/streams';
import type { SimulatorConfig } from './config';
import { JourneysModule } from './journeys/journeys.module';

/**
 * Kitchen and courier simulator: plays a journey for every order (kitchen on `kitchen`, couriers on
 * `couriers`), its steps scheduled in Redis so crashes and replicas neither skip nor double one.
 * Off in production.
 */
@Module({})
export class AppModule {
  static forRoot(config: SimulatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ redisUrl: config.redis.url }),
        StreamsModule.forRoot({ redisUrl: config.redis.url, connectionName: 'simulator' }),
        JourneysModule.forRoot(config.simulation),
      ],
    };
  }
}
