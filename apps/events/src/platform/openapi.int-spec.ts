import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { runApp } from '@choreo/runtime';
import { ContractCase, lintOpenApi, probeContract, useSpecServers, servedOpenApi } from '@choreo/testing';
import { EntityEventsModule } from '../entity-events/entity-events.module';
import { OrdersModule } from '../orders/orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';

const ENTITIES_DIR = path.resolve(__dirname, '../../../../entities');
const MISSING = '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d';
const WRITES_PER_TOKEN = 50;

type Operation = {
  summary?: string;
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
};

// The events app's OpenAPI document, linted by Redocly's recommended rules, and checked against what
// the routes really answer: every status a request provokes must be documented for its operation,
// and every documented error must be provoked by some request here.
describe('events OpenAPI: lint-clean, every answer documented, every documented error provoked', () => {
  const servers = useSpecServers({ postgres: true, redis: true, database: 'events_openapi' });
  let base: string;
  let document: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };
  // Each request writes with a token of its own, so the rate limit is reached only where meant to.
  const tokens = Array.from({ length: 400 }, (_, i) => `events-openapi-token-${String(i).padStart(4, '0')}`);
  let next = 0;
  const auth = () => ({ authorization: `Bearer ${tokens[next++]}` });
  const json = () => ({ ...auth(), 'content-type': 'application/json' });

  beforeAll(async () => {
    const catalog = loadEntities(ENTITIES_DIR);
    const schemaOwner = new Database({ url: servers.databaseUrl });
    await syncEntitySchema(schemaOwner, catalog);
    await schemaOwner.close();
    const app: INestApplication = await runApp({
      app: 'events',
      module: eventsUnderTest(
        {
          database: { url: servers.databaseUrl, poolMax: 3 },
          auth: { tokens, protectReads: false },
          rateLimit: {
            writes: { max: WRITES_PER_TOKEN, windowMs: 60_000 },
            reads: { max: 1000, windowMs: 60_000 },
            redisUrl: servers.redis.url,
          },
        },
        OrdersModule.forRoot({
          tracking: { secret: 'events-openapi-spec-secret-0123456789', ttlSeconds: 60 },
        }),
        EntityEventsModule.forRoot({ catalog }),
      ),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 2048, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    ({ base, document } = await servedOpenApi<typeof document>(app));
  });

  it('passes the Redocly linter with no error or warning', () => {
    expect(lintOpenApi(document)).toEqual([]);
  });

  it('gives every operation a summary and security, public reads and the token renewal security: []', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const [route, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        expect([route, method, typeof operation.summary]).toEqual([route, method, 'string']);
        const open = method === 'get' || route.endsWith('/tracking-token');
        expect([route, method, operation.security?.length]).toEqual([route, method, open ? 0 : 1]);
      }
  });

  it('documents every status the routes answer, and each documented error is provoked', async () => {
    const product = await fetch(`${base}/events/product`, {
      method: 'POST',
      headers: json(),
      body: JSON.stringify({ name: 'margherita', price: '9.50', stock: 3 }),
    });
    const productId = ((await product.json()) as { id: string }).id;
    const placed = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: json(),
      body: JSON.stringify({
        customer: 'ada',
        address: '1 Loop Road',
        items: [{ product_id: productId, quantity: 1 }],
      }),
    });
    const order = (await placed.json()) as { id: string; tracking: { token: string } };
    const other = (await (
      await fetch(`${base}/orders`, {
        method: 'POST',
        headers: json(),
        body: JSON.stringify({
          customer: 'bob',
          address: '2 Loop Road',
          items: [{ product_id: productId, quantity: 1 }],
        }),
      })
    ).json()) as { tracking: { token: string } };
    const orderBody = (quantity: number, productOf = productId) =>
      JSON.stringify({
        customer: 'ada',
        address: '1 Loop Road',
        items: [{ product_id: productOf, quantity }],
      });
    const tooBig = JSON.stringify({ name: 'x'.repeat(4096) });
    const bodyRefusals = (route: string, method: string): ContractCase[] => [
      [route, method, { method: method.toUpperCase(), headers: json(), body: '{' }],
      [route, method, { method: method.toUpperCase(), headers: json(), body: tooBig }],
      [
        route,
        method,
        { method: method.toUpperCase(), headers: { ...auth(), 'content-type': 'text/plain' }, body: 'x' },
      ],
    ];
    const tokenRefusals = (route: string, method: string, body = '{}'): ContractCase[] => [
      [
        route,
        method,
        { method: method.toUpperCase(), headers: { 'content-type': 'application/json' }, body },
      ],
      [
        route,
        method,
        {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer nope-${next++}`, 'content-type': 'application/json' },
          body,
        },
      ],
    ];
    const single = { accept: 'application/vnd.pgrst.object+json' };
    const cases: ContractCase[] = [
      // /orders
      ['/orders', 'post', { method: 'POST', headers: json(), body: orderBody(1) }],
      ['/orders', 'post', { method: 'POST', headers: json(), body: orderBody(99) }],
      ['/orders', 'post', { method: 'POST', headers: json(), body: orderBody(1, MISSING) }],
      [
        '/orders',
        'post',
        { method: 'POST', headers: { ...json(), 'idempotency-key': 'k-1' }, body: orderBody(1) },
      ],
      [
        '/orders',
        'post',
        { method: 'POST', headers: { ...json(), 'idempotency-key': 'k-1' }, body: orderBody(2) },
      ],
      ...bodyRefusals('/orders', 'post'),
      ...tokenRefusals('/orders', 'post'),
      ['/orders', 'get', {}],
      ['/orders?status=nope', 'get', {}],
      ['/orders/{id}', 'get', {}],
      [
        '/orders/{id}/tracking-token',
        'post',
        { method: 'POST', headers: { authorization: `Bearer ${order.tracking.token}` } },
      ],
      ['/orders/{id}/tracking-token', 'post', { method: 'POST' }],
      [
        '/orders/{id}/tracking-token',
        'post',
        { method: 'POST', headers: { authorization: `Bearer ${other.tracking.token}` } },
      ],
    ];
    const actions = Object.keys(document.paths).filter((r) => /^\/orders\/\{id\}\/(?!tracking)/.test(r));
    // The first pass walks the order through its lifecycle; the second finds every move illegal.
    for (const route of [...actions, ...actions])
      cases.push([route, 'post', { method: 'POST', headers: auth() }]);
    for (const route of actions) {
      cases.push(
        [route, 'post', { method: 'POST', headers: json(), body: '{"reason": 5}' }],
        ...bodyRefusals(route, 'post'),
        ...tokenRefusals(route, 'post'),
      );
    }
    cases.push(
      // /events/product: one row, or PostgREST's collection writes
      ['/events/product', 'post', { method: 'POST', headers: json(), body: '{"name":"a","price":"1"}' }],
      ['/events/product', 'post', { method: 'POST', headers: json(), body: '{"name":""}' }],
      [
        '/events/product',
        'post',
        { method: 'POST', headers: json(), body: JSON.stringify({ id: productId, name: 'b', price: '1' }) },
      ],
      [
        '/events/product',
        'post',
        {
          method: 'POST',
          headers: { ...json(), ...single },
          body: '[{"name":"a","price":"1"},{"name":"b","price":"1"}]',
        },
      ],
      [
        '/events/product',
        'post',
        {
          method: 'POST',
          headers: { ...json(), 'idempotency-key': 'p-1' },
          body: '{"name":"c","price":"1"}',
        },
      ],
      [
        '/events/product',
        'post',
        {
          method: 'POST',
          headers: { ...json(), 'idempotency-key': 'p-1' },
          body: '{"name":"d","price":"1"}',
        },
      ],
      ...bodyRefusals('/events/product', 'post'),
      ...tokenRefusals('/events/product', 'post'),
      [
        '/events/product?name=eq.a',
        'patch',
        { method: 'PATCH', headers: { ...json(), prefer: 'return=representation' }, body: '{"stock":1}' },
      ],
      ['/events/product?name=eq.a', 'patch', { method: 'PATCH', headers: json(), body: '{"stock":2}' }],
      ['/events/product', 'patch', { method: 'PATCH', headers: json(), body: '{"stock":2}' }],
      [
        '/events/product?stock=gte.0',
        'patch',
        { method: 'PATCH', headers: { ...json(), ...single }, body: '{"stock":2}' },
      ],
      ...bodyRefusals('/events/product?name=eq.a', 'patch'),
      ...tokenRefusals('/events/product?name=eq.a', 'patch'),
      ['/events/product?stock=gte.0', 'delete', { method: 'DELETE', headers: { ...auth(), ...single } }],
      ['/events/product', 'delete', { method: 'DELETE', headers: auth() }],
      [
        '/events/product?name=eq.b',
        'delete',
        { method: 'DELETE', headers: { ...auth(), prefer: 'return=representation' } },
      ],
      ['/events/product?name=eq.c', 'delete', { method: 'DELETE', headers: auth() }],
      ...tokenRefusals('/events/product?name=eq.c', 'delete', ''),
      ['/events/product/{id}', 'patch', { method: 'PATCH', headers: json(), body: '{"stock":3}' }],
      [
        '/events/product/{id}',
        'patch',
        { method: 'PATCH', headers: { ...json(), 'if-match': '"99"' }, body: '{"stock":3}' },
      ],
      ...bodyRefusals('/events/product/{id}', 'patch'),
      ...tokenRefusals('/events/product/{id}', 'patch'),
      ['/events/product/{id}', 'delete', { method: 'DELETE', headers: { ...auth(), 'if-match': '"99"' } }],
      ...tokenRefusals('/events/product/{id}', 'delete', ''),
    );
    const ids = [order.id, 'not-a-uuid', MISSING];
    const { undocumented, seen } = await probeContract(base, document, cases, ids);
    // A row the /{id} writes can find, then delete for good.
    const row = await fetch(`${base}/events/product`, {
      method: 'POST',
      headers: json(),
      body: '{"name":"e","price":"1"}',
    });
    const rowId = ((await row.json()) as { id: string }).id;
    const byId = await probeContract(
      base,
      document,
      [
        [
          '/events/product/{id}',
          'patch',
          { method: 'PATCH', headers: { ...json(), 'if-match': '"99"' }, body: '{"stock":3}' },
        ],
        ['/events/product/{id}', 'delete', { method: 'DELETE', headers: { ...auth(), 'if-match': '"99"' } }],
        ['/events/product/{id}', 'delete', { method: 'DELETE', headers: auth() }],
      ],
      [rowId],
    );
    // One caller over its write limit.
    const hammer = tokens[next++];
    const limited: ContractCase[] = Array.from({ length: WRITES_PER_TOKEN + 1 }, () => [
      '/events/product?name=eq.none',
      'delete',
      { method: 'DELETE', headers: { authorization: `Bearer ${hammer}` } },
    ]);
    const overLimit = await probeContract(base, document, limited);
    expect([...undocumented, ...byId.undocumented, ...overLimit.undocumented]).toEqual([]);

    const provoked = new Set([...seen, ...byId.seen, ...overLimit.seen]);
    const unprovoked: string[] = [];
    // Every entity's routes are generated alike: product's stand for them. 429 is every operation's
    // (the limiter sits before them all): provoked once, above.
    const checked = Object.entries(document.paths).filter(
      ([route]) => !/^\/events\/(?!product\b)/.test(route),
    );
    for (const [route, operations] of checked)
      for (const [method, operation] of Object.entries(operations))
        for (const status of Object.keys(operation.responses))
          if (Number(status) >= 400 && status !== '429' && !provoked.has(`${method} ${route} ${status}`))
            unprovoked.push(`${method} ${route} ${status}`);
    expect(unprovoked).toEqual([]);
    expect(provoked.has('delete /events/product 429')).toBe(true);
  });
});
