import { EventEnvelope, fieldMap } from '@choreo/contracts';
import { useSpecServers, waitFor } from '@choreo/testing';
import { Controller, Injectable, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { RedisStreamsContext } from './redis-streams.context';
import { RedisStreamsServer } from './redis-streams.server';
import { StreamPublisher } from './stream-publisher';
import { StreamsExceptionFilter } from './streams-exception.filter';
import { StreamsModule } from './streams.module';
import { orderEvent } from './test-fixtures/events';

interface Seen {
  eventId: string;
  data: unknown;
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  deliveryCount: number;
}

@Injectable()
class TrackingService {
  readonly seen: Seen[] = [];
}

@Controller()
@UseFilters(new StreamsExceptionFilter())
class TrackingHandlers {
  constructor(
    private readonly tracking: TrackingService,
    private readonly publisher: StreamPublisher,
  ) {}

  @EventPattern('order.created')
  async orderCreated(@Payload() event: EventEnvelope<{ orderId: string }>, @Ctx() ctx: RedisStreamsContext) {
    this.tracking.seen.push({
      eventId: event.id,
      data: event.data,
      stream: ctx.getStream(),
      entryId: ctx.getEntryId(),
      group: ctx.getGroup(),
      consumer: ctx.getConsumer(),
      deliveryCount: ctx.getDeliveryCount(),
    });
    await this.publisher.publish(
      'tracking-out',
      orderEvent('order.tracked', { orderId: event.data.orderId }),
    );
  }

  @EventPattern('order.cancelled')
  orderCancelled(): void {
    throw new Error('cancellations are not supported yet');
  }
}

const servers = useSpecServers({ redis: true });
let redis: Redis;
beforeAll(() => {
  redis = servers.redisClient;
});

describe('RedisStreamsServer (Nest transport)', () => {
  it('routes entries to @EventPattern handlers by envelope type, with the context through @Ctx()', async () => {
    @Module({
      imports: [StreamsModule.forRoot({ redisUrl: servers.redis.url })],
      controllers: [TrackingHandlers],
      providers: [TrackingService],
    })
    class TrackingModule {}

    const app = await NestFactory.createMicroservice(TrackingModule, {
      strategy: new RedisStreamsServer({
        redisUrl: servers.redis.url,
        group: 'notifications',
        consumer: 'notifications-pod-1',
        streams: ['orders'],
        blockMs: 200,
        claimIntervalMs: 50,
        maxAttempts: 2,
        retry: { baseMs: 20, maxMs: 50, jitter: 0 },
        metricsIntervalMs: 0,
        registry: new Registry(),
      }),
      logger: false,
    });
    await app.listen();
    try {
      const publisher = new StreamPublisher(redis);
      const created = orderEvent('order.created', { orderId: 'o-1' });
      const entryId = await publisher.publish('orders', created);
      const cancelledId = await publisher.publish(
        'orders',
        orderEvent('order.cancelled', { orderId: 'o-1' }),
      );

      const tracking = app.get(TrackingService);
      await waitFor('handled', async () => tracking.seen.length === 1, 10_000);
      expect(tracking.seen[0]).toEqual({
        eventId: created.id,
        data: { orderId: 'o-1' },
        stream: 'orders',
        entryId,
        group: 'notifications',
        consumer: 'notifications-pod-1',
        deliveryCount: 1,
      });
      await waitFor('published by the handler', async () => (await redis.xlen('tracking-out')) === 1, 5_000);

      // The failing handler: retried once, then dead-lettered with the handler's own message.
      await waitFor('dead-lettered', async () => (await redis.xlen('dead-letters')) === 1, 10_000);
      const [[, fields]] = await redis.xrange('dead-letters', '-', '+');
      expect(fieldMap(fields)).toMatchObject({
        type: 'order.cancelled',
        dlq_id: cancelledId,
        dlq_attempts: '2',
        dlq_error: 'cancellations are not supported yet',
      });
    } finally {
      await app.close();
    }
    // close() drained and left the group with nothing pending, so the consumer removed itself.
    expect(await redis.xinfo('CONSUMERS', 'orders', 'notifications')).toEqual([]);
  });

  it('with handleAll, sends every event of every type and stream to the one handler it builds at listen', async () => {
    const seen: string[] = [];
    let built = 0;
    const server = new RedisStreamsServer(
      {
        redisUrl: servers.redis.url,
        group: 'all-types',
        consumer: 'all-types-1',
        streams: ['routed-a', 'routed-b'],
        blockMs: 200,
        metricsIntervalMs: 0,
        registry: new Registry(),
      },
      () => {
        built += 1;
        return async (event, ctx) => {
          seen.push(`${ctx.stream}:${event.type}`);
        };
      },
    );
    const app = await NestFactory.createMicroservice(class EmptyModule {}, {
      strategy: server,
      logger: false,
    });
    await app.listen();
    try {
      const publisher = new StreamPublisher(redis);
      await publisher.publish('routed-a', orderEvent('order.created', { orderId: 'o-2' }));
      await publisher.publish('routed-b', orderEvent('cdc.product.updated', { orderId: 'o-2' }));
      await waitFor('both handled', async () => seen.length === 2, 10_000);
      expect(seen.sort()).toEqual(['routed-a:order.created', 'routed-b:cdc.product.updated']);
      expect(built).toBe(1);
    } finally {
      await app.close();
    }
  });
});
