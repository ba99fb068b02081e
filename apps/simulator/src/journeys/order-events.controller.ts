import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, orderEvents } from '@choreo/contracts';
import { REDIS_STREAMS_TRANSPORT, StreamsExceptionFilter } from '@choreo/streams';
import { JourneyService } from './journey.service';

/** Every order lifecycle event: each one moves its order's journey on (or ends it). */
export const JOURNEY_TRIGGERS: readonly string[] = orderEvents.map((definition) => definition.type);

/** The `orders` stream (group `simulator`). */
@Controller()
@UseFilters(new StreamsExceptionFilter())
export class OrderEventsController {
  constructor(private readonly journeys: JourneyService) {}

  @EventPattern(JOURNEY_TRIGGERS, REDIS_STREAMS_TRANSPORT)
  async onOrderEvent(@Payload() event: EventEnvelope): Promise<void> {
    await this.journeys.onOrderEvent(event);
  }
}
