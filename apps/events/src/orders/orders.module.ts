import { DynamicModule, Module } from '@nestjs/common';
import type { TrackingOptions } from '@choreo/http';
import { eventsOpenApiFragment } from '../platform/events-openapi';
import { OrdersController } from './orders.controller';
import { TrackingTokenController } from './tracking-token.controller';
import { ordersOpenApi } from './orders.openapi';
import { OrdersRepository } from './orders.repository';
import { OrdersService, TRACKING_OPTIONS } from './orders.service';

export interface OrdersModuleOptions {
  /** `trackingConfig`. */
  tracking: TrackingOptions;
}

/**
 * `/orders`: placing orders with stock reservation and their lifecycle, each change with its outbox
 * event. Stands on EventsPlatformModule (pool, auth, errors, OpenAPI). Global, so that the
 * choreography module (orders moved by stream events) finds the orders service and repository.
 */
@Module({})
export class OrdersModule {
  static forRoot(options: OrdersModuleOptions): DynamicModule {
    return {
      module: OrdersModule,
      global: true,
      // The token route first: its static segment must not be read as `:id/:action`.
      controllers: [TrackingTokenController, OrdersController],
      providers: [
        { provide: TRACKING_OPTIONS, useValue: options.tracking },
        OrdersRepository,
        OrdersService,
        eventsOpenApiFragment('ORDERS', ordersOpenApi),
      ],
      exports: [OrdersService, OrdersRepository],
    };
  }
}
