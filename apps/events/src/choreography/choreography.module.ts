import { Module } from '@nestjs/common';
import { Streams } from '@choreo/contracts';
import { RedisStreamsServer, RedisStreamsServerOptions } from '@choreo/streams';
import { CourierEventsController } from './courier-events.controller';
import { CourierEventsService, EVENTS_GROUP } from './courier-events.service';

/**
 * Choreography in: kitchen and courier events from the `couriers` stream move orders. Needs
 * OrdersModule (global) and a RedisStreamsServer from `courierEventsTransport` connected to the app.
 */
@Module({
  controllers: [CourierEventsController],
  providers: [CourierEventsService],
  exports: [CourierEventsService],
})
export class ChoreographyModule {}

/**
 * The transport that feeds ChoreographyModule: the `couriers` stream, consumer group `events`.
 * One handler at a time by default: the events of one order must apply in stream order (accepted
 * before started before ready), and concurrent handlers would race them into illegal jumps that only
 * retries could sort out. A transition is a few milliseconds, so one slot carries hundreds a second.
 */
export function courierEventsTransport(
  options: { redisUrl: string } & Partial<Omit<RedisStreamsServerOptions, 'group' | 'streams'>>,
): RedisStreamsServer {
  return new RedisStreamsServer({
    concurrency: 1,
    ...options,
    group: EVENTS_GROUP,
    streams: [Streams.couriers],
  });
}
