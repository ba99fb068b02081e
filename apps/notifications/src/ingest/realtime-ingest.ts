import { Channels, EventEnvelope, Streams } from '@choreo/contracts';
import type { StreamEventContext } from '@choreo/streams';
import type { Logger } from 'pino';
import { ChannelStore, PublicationBody, PublishResult } from '../channels/channel-store';
import type { RealtimeMetrics } from '../gateway/realtime-metrics';
import type { OrderTimelineStore } from '../read-model/order-timeline.store';
import { aggregateStateKey } from './aggregate-state-key';

/** An event that cannot be published yet: its predecessor is missing. Left pending, it is retried after it. */
export class PredecessorMissingError extends Error {
  override readonly name = 'PredecessorMissingError';
}

/** An event the notifications path can never use (no order id, no sequence). Retrying cannot fix it. */
export class UnusableEventError extends Error {
  override readonly name = 'UnusableEventError';
}

const CDC_PREFIX = Streams.cdc('');

/**
 * From the streams to the channels: each event updates the read model (orders) and is published
 * through the channel's atomic publish script (history + fan-out). Order events go out at their
 * sequence, only after their predecessor; a gap throws, so the entry stays pending and its retry
 * comes after the missing one.
 */
export class RealtimeIngest {
  constructor(
    private readonly channels: ChannelStore,
    private readonly timelines: OrderTimelineStore,
    private readonly metrics: RealtimeMetrics,
    private readonly log: Logger,
  ) {}

  /** Routes one stream entry by its stream. */
  async handle(event: EventEnvelope, ctx: StreamEventContext): Promise<void> {
    if (ctx.stream === Streams.orders) return this.onOrderEvent(event);
    if (ctx.stream === Streams.couriers) return this.onCourierEvent(event);
    if (ctx.stream === Streams.aggregates) return this.onAggregate(event);
    if (ctx.stream.startsWith(CDC_PREFIX))
      return this.onRowChange(ctx.stream.slice(CDC_PREFIX.length), event);
  }

  private async onOrderEvent(event: EventEnvelope): Promise<void> {
    if (!event.type.startsWith('order.')) return;
    const orderId = event.subject;
    const sequence = event.sequence;
    if (!orderId || sequence === undefined) {
      throw new UnusableEventError(`${event.type} ${event.id} has no subject or sequence`);
    }
    const applied = await this.timelines.apply({
      orderId,
      sequence,
      event: event.type,
      id: event.id,
      time: event.time,
      data: event.data,
    });
    if (applied.outcome === 'gap') {
      throw new PredecessorMissingError(
        `order ${orderId}: sequence ${sequence} waits for ${applied.sequence + 1}`,
      );
    }
    const channel = Channels.order(orderId);
    let result = await this.channels.publishSequenced(channel, sequence, body(event));
    if (result.outcome === 'gap') {
      // The read model holds every predecessor (it applies in order): publish the missing ones from
      // it, so a handler that died between its commit and its publish, or a Redis that lost the
      // channel, leaves no hole in the history. Their own deliveries then find duplicates.
      await this.fillFromReadModel(orderId, channel, result.offset, sequence);
      result = await this.channels.publishSequenced(channel, sequence, body(event));
    }
    this.record('order', channel, event, result);
    if (result.outcome === 'gap') {
      throw new PredecessorMissingError(
        `${channel}: offset ${sequence} waits for ${result.offset + 1} to be published`,
      );
    }
  }

  private async fillFromReadModel(
    orderId: string,
    channel: string,
    last: number,
    before: number,
  ): Promise<void> {
    const snapshot = await this.timelines.orderSnapshot(orderId);
    for (const entry of snapshot?.data.timeline ?? []) {
      if (entry.sequence <= last || entry.sequence >= before) continue;
      const filled = await this.channels.publishSequenced(channel, entry.sequence, {
        event: entry.event,
        id: entry.id,
        time: entry.time,
        data: entry.data,
      });
      this.metrics.published.inc({ kind: 'order', outcome: `filled-${filled.outcome}` });
      if (filled.outcome === 'gap') return;
    }
  }

  private async onCourierEvent(event: EventEnvelope): Promise<void> {
    if (event.type !== 'courier.location' || !event.subject) return;
    const channel = Channels.order(event.subject);
    const result = await this.channels.publishState(
      channel,
      'courier.location',
      body(event),
      Date.parse(event.time),
    );
    this.record('order', channel, event, result);
  }

  private async onRowChange(entity: string, event: EventEnvelope): Promise<void> {
    const channel = Channels.entity(entity);
    this.record('entity', channel, event, await this.channels.publishNext(channel, body(event), event.id));
  }

  private async onAggregate(event: EventEnvelope): Promise<void> {
    const data = (event.data ?? {}) as Record<string, unknown>;
    const rule = typeof data['rule'] === 'string' ? data['rule'] : event.subject;
    if (!rule) throw new UnusableEventError(`aggregate ${event.id} names no rule`);
    const channel = Channels.aggregates(rule);
    const result = await this.channels.publishNext(channel, body(event), event.id, aggregateStateKey(data));
    this.record('aggregates', channel, event, result);
  }

  private record(kind: string, channel: string, event: EventEnvelope, result: PublishResult): void {
    this.metrics.published.inc({ kind, outcome: result.outcome });
    this.log.info(
      { channel, offset: result.offset, outcome: result.outcome, event: event.type, eventId: event.id },
      'publication',
    );
  }
}

function body(event: EventEnvelope): PublicationBody {
  return { event: event.type, id: event.id, time: event.time, data: event.data };
}
