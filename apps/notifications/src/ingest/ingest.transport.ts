import { RedisStreamsServer } from '@choreo/streams';
import type { Realtime } from '../realtime';

/**
 * The notifications transport of a replica's edge: one StreamConsumer (group `notifications`) over the
 * orders, couriers, aggregates and `cdc.<entity>` streams, every event to `realtime.ingest`, which
 * routes by stream.
 */
export function ingestTransport(realtime: Realtime): RedisStreamsServer {
  return new RedisStreamsServer(
    realtime.consumerOptions(),
    () => (event, ctx) => realtime.ingest.handle(event, ctx),
  );
}
