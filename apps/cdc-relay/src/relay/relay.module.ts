import { DynamicModule, Module } from '@nestjs/common';
import { RELAY_OPTIONS, RelayModuleOptions, RelayService } from './relay.service';

/** The WAL → Redis Streams relay, started with the app and drained on shutdown. */
@Module({})
export class RelayModule {
  static forRoot(options: RelayModuleOptions): DynamicModule {
    return {
      module: RelayModule,
      providers: [{ provide: RELAY_OPTIONS, useValue: options }, RelayService],
      exports: [RelayService],
    };
  }
}
