import type { EventEnvelope } from '@choreo/contracts';
import { BaseRpcContext } from '@nestjs/microservices';
import type { StreamEventContext } from './stream-consumer';

/** What an `@EventPattern` handler can ask through `@Ctx()`: where its event came from. */
export class RedisStreamsContext extends BaseRpcContext<[StreamEventContext]> {
  constructor(delivery: StreamEventContext) {
    super([delivery]);
  }

  getStream(): string {
    return this.args[0].stream;
  }

  /** The entry id in the stream (not the event id). */
  getEntryId(): string {
    return this.args[0].entryId;
  }

  getGroup(): string {
    return this.args[0].group;
  }

  getConsumer(): string {
    return this.args[0].consumer;
  }

  /** 1 on the first delivery; more means a retry or a takeover after a crash. */
  getDeliveryCount(): number {
    return this.args[0].deliveryCount;
  }

  getEnvelope(): EventEnvelope {
    return this.args[0].event;
  }
}
