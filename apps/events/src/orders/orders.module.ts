import { DynamicModule, Module } from '@nestjs/common';
import { OrdersController } from './orders.controller';
import { OrdersDatabase } from './orders.database';
import { OrdersRepository } from './orders.repository';
import { EVENTS_SCHEMA } from './orders.schema';
import { OrdersService, TRACKING_OPTIONS } from './orders.service';
import type { TrackingOptions } from './tracking.config';

export interface OrdersModuleOptions {
  database: { url: string; poolMax: number };
  tracking: TrackingOptions;
}

/** `/orders`: placing orders with stock reservation, the lifecycle, each change with its outbox event. */
@Module({})
export class OrdersModule {
  static forRoot(options: OrdersModuleOptions): DynamicModule {
    return {
      module: OrdersModule,
      // One pool per app: the choreography and entity-events modules write through the same database.
      global: true,
      controllers: [OrdersController],
      providers: [
        {
          provide: OrdersDatabase,
          // The app owns its tables: migrate before any request can reach them.
          useFactory: async () => {
            const database = new OrdersDatabase(options.database.url, options.database.poolMax);
            await database.migrate('events', EVENTS_SCHEMA);
            return database;
          },
        },
        { provide: TRACKING_OPTIONS, useValue: options.tracking },
        OrdersRepository,
        OrdersService,
      ],
      exports: [OrdersService, OrdersRepository, OrdersDatabase],
    };
  }
}
