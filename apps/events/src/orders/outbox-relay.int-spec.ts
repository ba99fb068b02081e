import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import path from 'node:path';
import { Registry } from 'prom-client';
import { CdcRelay } from '@choreo/cdc';
import { decodeEnvelope, Streams } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { useSpecServers, waitFor } from '@choreo/testing';
import { EntityEventsModule } from '../entity-events/entity-events.module';
import { OrdersModule } from './orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';
import { createHttpApp } from '@choreo/runtime';

const TOKEN = 'outbox-relay-spec-token';

// The outbox contract end to end: what the events app records reaches the domain streams through the
// real cdc-relay, with the ids, sequence and correlation given at write time, and nothing else does.
describe('events outbox → cdc-relay → domain streams (real PostgreSQL and Redis)', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'relay' });
  let redis: Redis;
  let app: INestApplication;
  let relay: CdcRelay;
  let base: string;
  let productId: string;

  beforeAll(async () => {
    const url = servers.databaseUrl;
    const catalog = loadEntities(path.resolve(__dirname, '../../../../entities'));
    const schemaOwner = new Database({ url });
    await syncEntitySchema(schemaOwner, catalog);
    productId = (
      await schemaOwner.query<{ id: string }>(
        "insert into product (id, name, price, stock) values (gen_random_uuid(), 'bibimbap', '13.00', 3) returning id",
      )
    ).rows[0].id;
    await schemaOwner.close();
    redis = servers.redisClient;
    app = await createHttpApp(
      eventsUnderTest(
        { database: { url, poolMax: 4 }, auth: { tokens: [TOKEN], protectReads: false }, openApi: false },
        OrdersModule.forRoot({
          tracking: { secret: 'outbox-relay-spec-secret-0123456789abcdef', ttlSeconds: 60 },
        }),
        EntityEventsModule.forRoot({ catalog }),
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    relay = new CdcRelay({
      databaseUrl: url,
      redisUrl: servers.redis.url,
      publication: 'choreo',
      slot: 'choreo_relay',
      tables: 'auto',
      heartbeatIntervalMs: 500,
      statusIntervalMs: 200,
      chunkEvents: 100,
      maxQueuedFrames: 1000,
      tableRefreshMs: 500,
      registry: new Registry(),
    });
    await relay.start();
  });

  servers.atStop(async () => {
    // A short stop timeout: CdcRelay.stop leaves its timeout timer running after a clean stop.
    await relay?.stop(2_000);
    await app?.close();
  });

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      body: JSON.stringify(body),
    });

  it('publishes order and entity events on their streams with the ids given at write time', async () => {
    const order = (customer: string, quantity: number) => ({
      customer,
      address: '5 Loop Road',
      items: [{ product_id: productId, quantity }],
    });
    const placed = await post('/orders', order('lin', 2), { 'x-correlation-id': 'corr-relay-1' });
    expect(placed.status).toBe(201);
    const { id: orderId } = (await placed.json()) as { id: string };
    expect((await post('/orders', order('lin', 5))).status).toBe(409); // rolled back: no event
    const cancelled = await post(`/orders/${orderId}/cancel`, {});
    const created = await post('/events/hello', { world: 'relay' });

    await waitFor('order events on orders', async () => (await redis.xlen(Streams.orders)) >= 2, 30_000);
    await waitFor('hello event', async () => (await redis.xlen(Streams.entityEvents('hello'))) >= 1, 30_000);
    const orders = (await redis.xrange(Streams.orders, '-', '+')).map(([, fields]) => decodeEnvelope(fields));
    expect(orders.map((e) => [e.type, e.subject, e.sequence, e.id])).toEqual([
      ['order.created', orderId, 1, placed.headers.get('x-event-id')],
      ['order.cancelled', orderId, 2, cancelled.headers.get('x-event-id')],
    ]);
    expect(orders[0]).toMatchObject({
      source: 'events',
      correlationid: 'corr-relay-1',
      data: { total: '26.00' },
    });
    const [hello] = (await redis.xrange(Streams.entityEvents('hello'), '-', '+')).map(([, f]) =>
      decodeEnvelope(f),
    );
    expect(hello).toMatchObject({
      type: 'hello.created',
      id: created.headers.get('x-event-id'),
      sequence: 1,
    });
  });
});
