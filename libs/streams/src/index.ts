export { StreamPublisher, PublishBatchError } from './stream-publisher';
export type { PublishRequest } from './stream-publisher';
export type { ScheduledPublishRequest } from './scheduled-publish';
export { StreamConsumer } from './stream-consumer';
export type {
  HandlerResolver,
  StreamConsumerOptions,
  StreamEventContext,
  StreamEventHandler,
  StreamsLogger,
} from './stream-consumer';
export { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy';
export type { RetryPolicy } from './retry-policy';
export { DeadLetterStore, moveToDeadLetters } from './dead-letters';
export { applyDeadLetterRetention } from './dead-letter-retention';
export type { DeadLetterRetention, RetentionResult } from './dead-letter-retention';
export { deadLetterConfig } from './dead-letter.config';
export type { DeadLetterConfig } from './dead-letter.config';
export type { DeadLetter } from './dead-letters';
export { DuplicateInFlightError, EventDedupe } from './event-dedupe';
export type { EventDedupeOptions } from './event-dedupe';
export { deleteIdleConsumers } from './consumer-pruning';
export { trimConsumedEntries } from './stream-trimming';
export type { TrimResult } from './stream-trimming';
export { LatencyHistogram } from './latency-histogram';
export type { LatencySeries } from './latency-histogram';
export { StreamsMetrics } from './streams-metrics';
export { createStreamsConnection, isNoGroupError } from './redis-connection';
export type { StreamsConnectionOptions } from './redis-connection';
export { RedisStreamsContext } from './redis-streams.context';
export { REDIS_STREAMS_TRANSPORT, RedisStreamsServer } from './redis-streams.server';
export type { RedisStreamsServerOptions } from './redis-streams.server';
export { StreamsExceptionFilter } from './streams-exception.filter';
export { STREAMS_REDIS, StreamsModule } from './streams.module';
export type { StreamsModuleOptions } from './streams.module';
