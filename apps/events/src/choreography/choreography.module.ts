import { Module } from '@nestjs/common';
import { Streams } from '@choreo/contracts';
import { RedisStreamsServer, RedisStreamsServerOptions } from '@choreo/streams';
import { CourierEventsController } from './courier-events.controller';
import { CourierEventsService, EVENTS_GROUP } from './courier-events.service';

/**
 * Choreography in: kitchen events (`kitchen` stream) and courier events (`couriers`) move orders. Needs
 * OrdersModule (global, on EventsPlatformModule) and a RedisStreamsServer from `courierEventsTransport` connected to the app.
 */
@Module({
  controllers: [CourierEventsController],
  providers: [CourierEventsService],
  exports: [CourierEventsService],
})
export class ChoreographyModule {}

/**
 * The transport that feeds ChoreographyModule: the `kitchen` and `couriers` streams, consumer group
 * `events`. One handler at a time by default: the events of one order must apply in stream order
 * (accepted before started before ready), and concurrent handlers would race them into illegal jumps
 * that only retries could sort out. A transition is a few milliseconds, so one slot carries hundreds a
 * second. Across the two streams there is no order; the simulator publishes an order's next step only
 * after it saw the order move (kitchen.ready's order.ready before courier.picked_up), so none is needed.
 */
export function courierEventsTransport(
  options: { redisUrl: string } & Partial<Omit<RedisStreamsServerOptions, 'group' | 'streams'>>,
): RedisStreamsServer {
  return new RedisStreamsServer({
    concurrency: 1,
    ...options,
    group: EVENTS_GROUP,
    streams: [Streams.kitchen, Streams.couriers],
  });
}
