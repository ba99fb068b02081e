import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@choreo/contracts';
import { REDIS_STREAMS_TRANSPORT, StreamsExceptionFilter } from '@choreo/streams';
import { CourierEventsService, ORDER_DRIVING_EVENTS } from './courier-events.service';

/** The `kitchen` and `couriers` streams (group `events`): kitchen and courier events that move orders. */
@Controller()
@UseFilters(new StreamsExceptionFilter())
export class CourierEventsController {
  constructor(private readonly courierEvents: CourierEventsService) {}

  @EventPattern(ORDER_DRIVING_EVENTS, REDIS_STREAMS_TRANSPORT)
  async onOrderDrivingEvent(@Payload() event: EventEnvelope): Promise<void> {
    await this.courierEvents.applyCourierEvent(event);
  }
}
