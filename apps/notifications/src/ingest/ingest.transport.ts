import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { StreamConsumer, StreamConsumerOptions, StreamEventHandler } from '@choreo/streams';
import type { Realtime } from '../realtime';

/**
 * The notifications consumer as a Nest transport: one StreamConsumer (group `notifications`) over
 * the orders, couriers, aggregates and `cdc.<entity>` streams, every event to one handler that routes
 * by stream (`@EventPattern` matches types only, and entity types are open-ended).
 */
export class IngestServer extends Server implements CustomTransportStrategy {
  private consumer?: StreamConsumer;

  constructor(
    private readonly options: StreamConsumerOptions,
    private readonly handler: () => StreamEventHandler,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const handle = this.handler();
    this.consumer = new StreamConsumer(this.options, () => handle);
    this.consumer.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('IngestServer is not listening yet');
    return this.consumer as T;
  }

  on(): void {
    throw new Error('IngestServer has no transport events; use its metrics and logs');
  }
}

/** The notifications transport of a replica's edge: every event to `realtime.ingest`. */
export function ingestTransport(realtime: Realtime): IngestServer {
  return new IngestServer(
    realtime.consumerOptions(),
    () => (event, ctx) => realtime.ingest.handle(event, ctx),
  );
}
