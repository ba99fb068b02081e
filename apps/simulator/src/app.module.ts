import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import type { SimulatorConfig } from './config';

/** Kitchen and courier simulator: reacts to orders and publishes couriers events. Off in production. */
@Module({})
export class AppModule {
  static forRoot(config: SimulatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConnectionProbesModule.forRoot({ redisUrl: config.redis.url })],
    };
  }
}
