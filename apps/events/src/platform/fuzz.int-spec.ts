import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { loadEntities } from '@choreo/entities';
import {
  Database,
  createOutboxProbeSlot,
  dropOutboxProbeSlot,
  peekOutboxMessages,
  syncEntitySchema,
} from '@choreo/persistence';
import { runApp } from '@choreo/runtime';
import {
  FuzzRequest,
  deepJson,
  fuzzContentType,
  fuzzMethod,
  fuzzRequest,
  fuzzRoutes,
  hostileOperand,
  hostileSegment,
  hostileText,
  hugeJson,
  postgrestFilter,
  postgrestHeaders,
  tableDigests,
  useSpecServers,
} from '@choreo/testing';
import { EntityEventsModule } from '../entity-events/entity-events.module';
import { OrdersModule } from '../orders/orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';

const ENTITIES_DIR = path.resolve(__dirname, '../../../../entities');
const TOKEN = 'events-fuzz-token-0123456789';
const MISSING = '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d';
const BODY_LIMIT = 16384;
const TABLES = ['orders', 'order_items', 'product', 'hello', 'grouphello', 'idempotency_keys', 'inbox'];
const PRODUCT_FIELDS = ['id', 'name', 'price', 'category', 'stock', 'version', 'created_at'];

// Every route of the events app's OpenAPI document, driven by generated requests: none may answer a
// 5xx or drop the connection, and a refused request (4xx) must leave every table and the outbox (the
// messages the relay would read from the WAL) exactly as they were.
describe('events fuzz: no 5xx, no dropped connection, nothing written or emitted by a refusal', () => {
  const servers = useSpecServers({ postgres: true, redis: true, database: 'events_fuzz' });
  let port: number;
  let routes: string[];
  let operations: [string, string][];
  let ids: string[];
  let tracking: string;

  beforeAll(async () => {
    const catalog = loadEntities(ENTITIES_DIR);
    const schemaOwner = new Database({ url: servers.databaseUrl });
    await syncEntitySchema(schemaOwner, catalog);
    await schemaOwner.close();
    const app = await runApp({
      app: 'events',
      module: eventsUnderTest(
        {
          database: { url: servers.databaseUrl, poolMax: 4 },
          auth: { tokens: [TOKEN], protectReads: false },
          // Low enough that the run meets the limiter's 429 (which must write nothing either).
          rateLimit: {
            writes: { max: 100, windowMs: 60_000 },
            reads: { max: 1000, windowMs: 60_000 },
            redisUrl: servers.redis.url,
          },
        },
        OrdersModule.forRoot({ tracking: { secret: 'events-fuzz-spec-secret-0123456789', ttlSeconds: 600 } }),
        EntityEventsModule.forRoot({ catalog }),
      ),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: BODY_LIMIT, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    port = (app.getHttpServer().address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const product = (await (
      await fetch(`${base}/events/product`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'margherita', price: '9.50', stock: 1000 }),
      })
    ).json()) as { id: string };
    const order = (await (
      await fetch(`${base}/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          customer: 'ada',
          address: '1 Loop Road',
          items: [{ product_id: product.id, quantity: 1 }],
        }),
      })
    ).json()) as { id: string; tracking: { token: string } };
    ids = [product.id, order.id, MISSING, 'not-a-uuid'];
    tracking = order.tracking.token;
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    routes = Object.keys(document.paths);
    operations = Object.entries(document.paths).flatMap(([route, ops]) =>
      Object.keys(ops as object).map((method): [string, string] => [route, method.toUpperCase()]),
    );
    const sql = servers.pool({ max: 1 });
    await createOutboxProbeSlot(sql, 'events_fuzz_probe');
    servers.atStop(() => dropOutboxProbeSlot(sql, 'events_fuzz_probe'));
  });

  it('serves an OpenAPI document whose every route the fuzz reaches', () => {
    expect(routes).toEqual(
      expect.arrayContaining(['/orders', '/orders/{id}', '/orders/{id}/tracking-token', '/events/product']),
    );
  });

  it('answers every generated request below 500, and refusals write and emit nothing', async () => {
    const sql = servers.pool({ max: 1 });
    const orderItem = fc.record(
      {
        product_id: fc.oneof(fc.constantFrom(...ids), hostileText),
        quantity: fc.oneof(fc.integer(), hostileOperand),
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            customer: hostileText,
            address: hostileText,
            items: fc.oneof(fc.array(orderItem, { maxLength: 3 }), hostileText),
            reason: fc.oneof(hostileText, fc.integer()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            name: hostileText,
            price: fc.oneof(hostileOperand, fc.double()),
            stock: fc.oneof(fc.integer(), hostileText),
            category: hostileText,
            greeting: hostileText,
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      // Well-formed writes, so that some get through and are emitted.
      fc.constantFrom(...ids.slice(0, 2)).map((id) =>
        JSON.stringify({
          customer: 'bob',
          address: '2 Loop Road',
          items: [{ product_id: id, quantity: 1 }],
        }),
      ),
      fc
        .record({ name: hostileText, price: fc.constantFrom('1', '2.5'), stock: fc.nat(5) })
        .map((v) => JSON.stringify(v)),
      fc
        .array(fc.record({ name: hostileText, price: fc.constantFrom('1', '-1', 'x') }), { maxLength: 3 })
        .map((v) => JSON.stringify(v)),
      deepJson,
      hugeJson(BODY_LIMIT * 2),
      hostileText,
    );
    const targets = fc.oneof(
      fc
        .tuple(fc.constantFrom(...routes), fc.oneof(fc.constantFrom(...ids), hostileSegment))
        .map(([route, id]) => route.replace('{id}', id)),
      fc
        .tuple(fc.constantFrom('/orders/', '/events/', '/events/product/'), hostileSegment)
        .map(([p, s]) => p + s),
      fc.constantFrom('/events', '/events/nope', '/openapi.json', '/livez', '/metrics'),
    );
    const headers = fc
      .tuple(
        postgrestHeaders,
        fc.option(fc.constantFrom('k-1', 'k-2', 'x'.repeat(300))),
        fc.option(fc.constantFrom('"1"', '"99"', '*', 'W/"x"', 'garbage')),
        fc.nat(3).map((n) => n === 0),
      )
      .map(([postgrest, key, ifMatch, asTracked]) => ({
        ...postgrest,
        ...(key !== null && { 'idempotency-key': key }),
        ...(ifMatch !== null && { 'if-match': ifMatch }),
        // The tracking-token route takes the order's tracking token as its bearer.
        ...(asTracked && { authorization: `Bearer ${tracking}` }),
      }));
    const anyRequest = (methods: fc.Arbitrary<string>) =>
      fuzzRequest({
        targets,
        filters: postgrestFilter(PRODUCT_FIELDS),
        bodies,
        headers,
        methods,
        contentTypes: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, fuzzContentType),
      });
    // Mostly the documented operations (so that requests reach the handlers), the rest anything.
    const documented = fc
      .tuple(
        fc.constantFrom(...operations),
        fc.oneof(fc.constantFrom(...ids), hostileSegment),
        anyRequest(fuzzMethod),
      )
      .map(([[route, method], id, r]) => ({ ...r, method, target: route.replace('{id}', id) }));
    // And well-formed writes, so that the refusals are checked among writes that go through.
    const wellFormed = fc.tuple(fc.boolean(), fc.nat(5), postgrestHeaders).map(
      ([order, quantity, extra]): FuzzRequest => ({
        method: 'POST',
        target: order ? '/orders' : '/events/product',
        filters: [],
        body: JSON.stringify(
          order
            ? { customer: 'bob', address: '2 Loop Road', items: [{ product_id: ids[0], quantity }] }
            : { name: 'quattro', price: '11.00', stock: quantity },
        ),
        token: true,
        chunked: false,
        contentType: 'application/json',
        headers: extra,
      }),
    );
    const statuses = await fuzzRoutes({
      port,
      requests: fc.oneof({ arbitrary: documented, weight: 3 }, anyRequest(fuzzMethod), wellFormed),
      token: TOKEN,
      snapshot: async () => ({
        tables: await tableDigests(sql, TABLES),
        outbox: (await peekOutboxMessages(sql, 'events_fuzz_probe')).length,
      }),
      numRuns: 300,
    });
    // The fuzz reached the handlers: some writes went through (and were emitted), many were refused,
    // some by the rate limiter.
    const count = (from: number, to: number) =>
      [...statuses].filter(([s]) => s >= from && s < to).reduce((n, [, c]) => n + c, 0);
    expect([count(200, 300) > 0, count(400, 500) > 0, count(429, 430) > 0]).toEqual([true, true, true]);
    expect((await peekOutboxMessages(sql, 'events_fuzz_probe')).length).toBeGreaterThan(0);
  }, 180_000);
});
