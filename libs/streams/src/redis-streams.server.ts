import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { RedisStreamsContext } from './redis-streams.context';
import { StreamConsumer, StreamConsumerOptions, StreamEventHandler } from './stream-consumer';

/** Options of the Nest transport: those of the StreamConsumer it runs. */
export type RedisStreamsServerOptions = StreamConsumerOptions;

/** Marks the transport of `@EventPattern(…, REDIS_STREAMS_TRANSPORT)` handlers when an app has several. */
export const REDIS_STREAMS_TRANSPORT = Symbol('REDIS_STREAMS');

/**
 * A `@nestjs/microservices` transport over a Redis Streams consumer group: each `@EventPattern('type')`
 * handler receives the decoded envelope as its payload and a RedisStreamsContext through `@Ctx()`.
 * Resolving acknowledges the entry; throwing leaves it for a retry. Connect it with
 * `app.connectMicroservice({ strategy: new RedisStreamsServer(options) })`.
 *
 * A consumer that routes by stream rather than by type (`@EventPattern` matches types only, and entity
 * types are open-ended) passes `handleAll` instead: every event goes to the handler it builds at `listen`.
 */
export class RedisStreamsServer extends Server implements CustomTransportStrategy {
  override readonly transportId = REDIS_STREAMS_TRANSPORT;
  private consumer?: StreamConsumer;

  constructor(
    private readonly options: RedisStreamsServerOptions,
    private readonly handleAll?: () => StreamEventHandler,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const all = this.handleAll?.();
    this.consumer = new StreamConsumer(this.options, all ? () => all : (type) => this.handlerFor(type));
    this.consumer.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  /** The underlying StreamConsumer. */
  unwrap<T>(): T {
    if (!this.consumer) throw new Error('RedisStreamsServer is not listening yet');
    return this.consumer as T;
  }

  /** The consumer reports through its logger and metrics; there are no transport events to subscribe to. */
  on(): void {
    throw new Error('RedisStreamsServer has no transport events; use its metrics and logs');
  }

  private handlerFor(type: string): StreamEventHandler | undefined {
    const handler: MessageHandler | null = this.getHandlerByPattern(type);
    if (!handler) return undefined;
    return async (event, delivery) => {
      const result: unknown = await handler(event, new RedisStreamsContext(delivery));
      // Nest's exception layer turns a thrown error into an erroring observable; subscribing is what
      // surfaces it (and runs every handler attached to the same pattern).
      if (isObservable(result)) {
        try {
          await lastValueFrom(result, { defaultValue: undefined });
        } catch (error) {
          throw asError(error);
        }
      }
    };
  }
}

// Nest's default RPC filter replaces an unknown error with `{ status: 'error', message }`.
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return new Error(String((error as { message: unknown }).message));
  }
  return new Error(typeof error === 'string' ? error : JSON.stringify(error));
}
