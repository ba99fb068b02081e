import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import path from 'node:path';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { EventEnvelope, fieldMap, Streams } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import {
  Database,
  createOutboxProbeSlot,
  dropOutboxProbeSlot,
  peekOutboxMessages,
  syncEntitySchema,
} from '@choreo/persistence';
import { StreamPublisher } from '@choreo/streams';
import { useSpecServers, waitFor } from '@choreo/testing';
import { OrdersModule } from '../orders/orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';
import { OrdersService } from '../orders/orders.service';
import { ChoreographyModule, courierEventsTransport } from './choreography.module';
import { CourierEventsService } from './courier-events.service';
import { createHttpApp } from '@choreo/runtime';

const SLOT = 'choreography_probe';

describe('choreography: kitchen and courier events move orders (real PostgreSQL and Redis)', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'choreography' });
  let pool: Pool;
  let redis: Redis;
  let app: INestApplication;
  let orders: OrdersService;
  let courierEvents: CourierEventsService;
  let productId: string;

  beforeAll(async () => {
    const url = servers.databaseUrl;
    pool = servers.pool({ max: 4 });
    servers.atStop(async () => {
      await dropOutboxProbeSlot(pool, SLOT).catch(() => undefined);
      await app?.close();
    });
    const schemaOwner = new Database({ url });
    await syncEntitySchema(schemaOwner, loadEntities(path.resolve(__dirname, '../../../../entities')));
    await schemaOwner.close();
    productId = uuidv7();
    await pool.query("insert into product (id, name, price, stock) values ($1, 'ramen', '12.00', 1000)", [
      productId,
    ]);
    redis = servers.redisClient;

    app = await createHttpApp(
      eventsUnderTest(
        {
          database: { url, poolMax: 6 },
          auth: { tokens: ['choreography-spec-token'], protectReads: false },
          openApi: false,
        },
        OrdersModule.forRoot({
          tracking: { secret: 'choreography-spec-secret-0123456789abcdef', ttlSeconds: 60 },
        }),
        ChoreographyModule,
      ),
      { logger: false },
    );
    app.connectMicroservice(
      {
        strategy: courierEventsTransport({
          redisUrl: servers.redis.url,
          consumer: 'events-spec',
          blockMs: 200,
          claimIntervalMs: 50,
          maxAttempts: 2,
          retry: { baseMs: 20, maxMs: 50, jitter: 0 },
          metricsIntervalMs: 0,
          registry: new Registry(),
        }),
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    await app.init();
    orders = app.get(OrdersService);
    courierEvents = app.get(CourierEventsService);
    await createOutboxProbeSlot(pool, SLOT);
  });

  const placeOrder = async () =>
    (
      await orders.placeOrder(
        { customer: 'grace', address: '3 Loop Road', items: [{ product_id: productId, quantity: 1 }] },
        { correlationId: `corr-${uuidv7()}` },
      )
    ).order;

  const courierEvent = (
    type: string,
    orderId: string,
    extra: Record<string, unknown> = {},
  ): EventEnvelope => ({
    id: uuidv7(),
    type,
    source: 'simulator',
    subject: orderId,
    time: new Date().toISOString(),
    correlationid: 'corr-courier',
    data: { order_id: orderId, ...extra },
  });

  const statusOf = async (orderId: string) =>
    (
      await pool.query<{ status: string; sequence: number }>(
        'select status, sequence from orders where id = $1',
        [orderId],
      )
    ).rows[0];

  const outboxOf = async (orderId: string) =>
    (await peekOutboxMessages(pool, SLOT)).filter((m) => m.event.subject === orderId).map((m) => m.event);

  it('applies a redelivered event once, even when both deliveries race', async () => {
    const order = await placeOrder();
    const accepted = courierEvent('kitchen.accepted', order.id, { kitchen_id: 'k1' });

    const outcomes = await Promise.all([
      courierEvents.applyCourierEvent(accepted),
      courierEvents.applyCourierEvent(accepted),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'duplicate']);
    expect(await courierEvents.applyCourierEvent(accepted)).toEqual({ outcome: 'duplicate' });

    expect(await statusOf(order.id)).toEqual({ status: 'confirmed', sequence: 2 });
    const recorded = await outboxOf(order.id);
    expect(recorded.map((e) => e.type)).toEqual(['order.created', 'order.confirmed']);
    expect(recorded[1]).toMatchObject({
      causationid: accepted.id,
      correlationid: 'corr-courier',
      sequence: 2,
    });
    expect(recorded[1].data).toMatchObject({ trigger: 'kitchen.accepted', previous_status: 'created' });
  });

  it('records a late event as seen without moving the order back', async () => {
    const order = await placeOrder();
    await courierEvents.applyCourierEvent(courierEvent('kitchen.accepted', order.id));
    await courierEvents.applyCourierEvent(courierEvent('kitchen.started', order.id));
    const late = courierEvent('kitchen.accepted', order.id);
    expect(await courierEvents.applyCourierEvent(late)).toEqual({ outcome: 'stale', status: 'preparing' });
    expect(await statusOf(order.id)).toEqual({ status: 'preparing', sequence: 3 });
    expect(await courierEvents.applyCourierEvent(courierEvent('courier.location', order.id))).toEqual({
      outcome: 'ignored',
    });
  });

  it('rejects a forbidden jump and a malformed payload, changing nothing', async () => {
    const order = await placeOrder();
    const jump = courierEvent('courier.delivered', order.id, { courier_id: 'c1' });
    const malformed = courierEvent('courier.picked_up', order.id);
    await expect(courierEvents.applyCourierEvent(jump)).rejects.toThrow(
      /is created: cannot move to delivered/,
    );
    await expect(courierEvents.applyCourierEvent(malformed)).rejects.toThrow(/courier_id/);
    expect(await statusOf(order.id)).toEqual({ status: 'created', sequence: 1 });
    // Neither claim survived, so a fixed redelivery would still apply.
    const claimed = await pool.query('select 1 from inbox where event_id = any($1)', [
      [jump.id, malformed.id],
    ]);
    expect(claimed.rowCount).toBe(0);
    expect(await outboxOf(order.id)).toHaveLength(1);
  });

  it('drives an order to delivered from the kitchen and couriers streams, once per event even if published twice', async () => {
    const order = await placeOrder();
    const publisher = new StreamPublisher(redis);
    const steps = [
      courierEvent('kitchen.accepted', order.id),
      courierEvent('kitchen.started', order.id),
      courierEvent('kitchen.ready', order.id),
      courierEvent('courier.assigned', order.id, { courier_id: 'c7' }),
      courierEvent('courier.picked_up', order.id, { courier_id: 'c7' }),
      courierEvent('courier.location', order.id, { courier_id: 'c7', lat: 48.85, lng: 2.35 }),
      courierEvent('courier.delivered', order.id, { courier_id: 'c7' }),
    ];
    for (const step of steps) {
      await publisher.publish(step.type.startsWith('kitchen.') ? Streams.kitchen : Streams.couriers, step);
      // The simulator publishes an order's next step once it saw the order move; so does this test.
      if (step.type === 'kitchen.ready')
        await waitFor('ready', async () => (await statusOf(order.id)).status === 'ready', 20_000);
    }
    // The same event appended again (a producer retry): its id is in the inbox, so it changes nothing.
    await publisher.publish(Streams.couriers, steps[4]);

    await waitFor('order delivered', async () => (await statusOf(order.id)).status === 'delivered', 20_000);
    await waitFor(
      'kitchen and couriers drained',
      async () =>
        ((await redis.xpending(Streams.couriers, 'events')) as [number])[0] === 0 &&
        ((await redis.xpending(Streams.kitchen, 'events')) as [number])[0] === 0,
      20_000,
    );
    expect(await statusOf(order.id)).toEqual({ status: 'delivered', sequence: 6 });
    const recorded = await outboxOf(order.id);
    expect(recorded.map((e) => [e.type, e.sequence, e.causationid])).toEqual([
      ['order.created', 1, undefined],
      ['order.confirmed', 2, steps[0].id],
      ['order.preparing', 3, steps[1].id],
      ['order.ready', 4, steps[2].id],
      ['order.out_for_delivery', 5, steps[4].id],
      ['order.delivered', 6, steps[6].id],
    ]);
    expect(recorded[4].data).toMatchObject({ courier_id: 'c7' });
  });

  it('dead-letters an undecodable entry on couriers at once, and keeps consuming', async () => {
    const before = await redis.xlen(Streams.deadLetters);
    const entryId = await redis.xadd(Streams.couriers, '*', 'type', 'courier.picked_up', 'data', '{not json');
    await waitFor(
      'dead-lettered',
      async () => (await redis.xlen(Streams.deadLetters)) === before + 1,
      20_000,
    );
    const entries = await redis.xrange(Streams.deadLetters, '-', '+');
    const letter = fieldMap(entries[entries.length - 1][1]);
    expect(letter).toMatchObject({
      type: 'courier.picked_up',
      data: '{not json',
      dlq_stream: Streams.couriers,
      dlq_id: entryId,
      dlq_group: 'events',
      dlq_attempts: '1',
    });
    expect(letter['dlq_error']).toMatch(/id/);

    const order = await placeOrder();
    await new StreamPublisher(redis).publish(Streams.couriers, courierEvent('kitchen.accepted', order.id));
    await waitFor('still consuming', async () => (await statusOf(order.id)).status === 'confirmed', 20_000);
  });

  it('retries a forbidden jump from the stream and then dead-letters it, order untouched', async () => {
    const order = await placeOrder();
    const before = await redis.xlen(Streams.deadLetters);
    const jump = courierEvent('courier.delivered', order.id, { courier_id: 'c9' });
    await new StreamPublisher(redis).publish(Streams.couriers, jump);
    await waitFor(
      'dead-lettered',
      async () => (await redis.xlen(Streams.deadLetters)) === before + 1,
      20_000,
    );
    const entries = await redis.xrange(Streams.deadLetters, '-', '+');
    expect(fieldMap(entries[entries.length - 1][1])).toMatchObject({
      id: jump.id,
      dlq_attempts: '2',
      dlq_error: expect.stringMatching(/is created: cannot move to delivered/) as unknown as string,
    });
    expect(await statusOf(order.id)).toEqual({ status: 'created', sequence: 1 });
  });
});
