import { Controller, Type, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@choreo/contracts';
import {
  REDIS_STREAMS_TRANSPORT,
  RedisStreamsContext,
  RedisStreamsServer,
  RedisStreamsServerOptions,
  StreamsExceptionFilter,
} from '@choreo/streams';
import { AGGREGATOR_CONSUMER, AggregationService } from '../windows/aggregation.service';
import type { RuleSet } from '../windows/rule-set';

/**
 * The stream handler for the event types the rules count (known only once the rules are loaded, hence
 * a class made per rule set). It resolves when the event's batch has committed: the ack follows the commit.
 */
export function aggregateEventsController(types: readonly string[]): Type {
  @Controller()
  @UseFilters(new StreamsExceptionFilter())
  class AggregateEventsController {
    constructor(private readonly aggregation: AggregationService) {}

    @EventPattern([...types], REDIS_STREAMS_TRANSPORT)
    async onEvent(@Payload() event: EventEnvelope, @Ctx() context: RedisStreamsContext): Promise<void> {
      await this.aggregation.submit(event, context.getStream());
    }
  }
  return AggregateEventsController;
}

/**
 * The transport feeding the aggregator: every stream a rule reads, consumer group `aggregator`. Its
 * concurrency is the batch size, so up to that many events wait together for one transaction.
 */
export function aggregatorTransport(
  rules: RuleSet,
  options: { redisUrl: string; batchMax: number } & Partial<
    Omit<RedisStreamsServerOptions, 'group' | 'streams'>
  >,
): RedisStreamsServer {
  const { batchMax, ...rest } = options;
  return new RedisStreamsServer({
    concurrency: batchMax,
    batchSize: batchMax,
    ...rest,
    group: AGGREGATOR_CONSUMER,
    streams: rules.sources,
  });
}
