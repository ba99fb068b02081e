import { INestApplication } from '@nestjs/common';
import path from 'node:path';
import { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  Database,
  syncEntitySchema,
  createOutboxProbeSlot,
  dropOutboxProbeSlot,
  peekOutboxMessages,
} from '@choreo/persistence';
import type { OutboxMessage } from '@choreo/contracts';
import { verifyTrackingToken } from '@choreo/http';
import { loadEntities } from '@choreo/entities';
import { metricsRegistry } from '@choreo/observability';
import { JsonCall, jsonClient, useSpecServers } from '@choreo/testing';
import { OrdersModule } from './orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';
import { createHttpApp } from '@choreo/runtime';

const SECRET = 'orders-int-spec-secret-0123456789abcdef';
const TOKEN = 'orders-int-spec-api-token';
const ENTITIES_DIR = path.resolve(__dirname, '../../../../entities');
const SLOT = 'orders_probe';

describe('orders (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'orders' });
  let pool: Pool;
  let app: INestApplication;
  let base: string;
  let call: JsonCall;

  beforeAll(async () => {
    const url = servers.databaseUrl;
    pool = servers.pool({ max: 4 });
    servers.atStop(async () => {
      await dropOutboxProbeSlot(pool, SLOT).catch(() => undefined);
      await app?.close();
    });
    // The product table exactly as the crud side creates it from entities/product.yaml.
    const schemaOwner = new Database({ url });
    await syncEntitySchema(schemaOwner, loadEntities(ENTITIES_DIR));
    await schemaOwner.close();
    app = await createHttpApp(
      eventsUnderTest(
        { database: { url, poolMax: 10 }, auth: { tokens: [TOKEN], protectReads: false } },
        OrdersModule.forRoot({ tracking: { secret: SECRET, ttlSeconds: 900 } }),
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    call = jsonClient(base, { authorization: `Bearer ${TOKEN}` });
    await createOutboxProbeSlot(pool, SLOT);
  });

  async function addProduct(stock: number, price = '9.50', name = 'margherita'): Promise<string> {
    const id = uuidv7();
    await pool.query('insert into product (id, name, price, category, stock) values ($1, $2, $3, $4, $5)', [
      id,
      name,
      price,
      'pizza',
      stock,
    ]);
    return id;
  }

  async function stockOf(productId: string): Promise<number> {
    return (await pool.query<{ stock: number }>('select stock from product where id = $1', [productId]))
      .rows[0].stock;
  }

  async function eventsOf(orderId: string): Promise<OutboxMessage[]> {
    return (await peekOutboxMessages(pool, SLOT)).filter((m) => m.event.subject === orderId);
  }

  const order = (productId: string, quantity = 1, customer = 'ada') => ({
    customer,
    address: '1 Loop Road',
    items: [{ product_id: productId, quantity }],
  });

  it('sells exactly the stock to 100 concurrent buyers of 10 items, never below zero', async () => {
    const productId = await addProduct(10);
    const before = (await peekOutboxMessages(pool, SLOT)).length;
    let lowest = 10;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) lowest = Math.min(lowest, await stockOf(productId));
    })();

    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call('POST', '/orders', order(productId, 1, `buyer-${i}`))),
    );
    sampling = false;
    await sampler;

    const created = replies.filter((r) => r.status === 201);
    const refused = replies.filter((r) => r.status === 409);
    expect(created).toHaveLength(10);
    expect(refused).toHaveLength(90);
    expect(refused[0].body).toMatchObject({
      error: 'insufficient_stock',
      product_id: productId,
      requested: 1,
      available: 0,
    });
    expect(await stockOf(productId)).toBe(0);
    expect(lowest).toBeGreaterThanOrEqual(0);

    const ids = created.map((r) => r.body['id'] as string).sort();
    const { rows } = await pool.query<{ id: string }>(
      'select o.id from orders o join order_items i on i.order_id = o.id where i.product_id = $1 order by o.id',
      [productId],
    );
    expect(rows.map((r) => r.id)).toEqual(ids);

    const recorded = (await peekOutboxMessages(pool, SLOT)).slice(before);
    expect(recorded.filter((m) => m.event.type === 'order.created')).toHaveLength(10);
    expect(recorded.map((m) => m.event.subject).sort()).toEqual(ids);
    for (const reply of created) {
      const [message] = recorded.filter((m) => m.event.subject === reply.body['id']);
      expect(message.aggregate).toBe('order');
      expect(message.event).toMatchObject({
        sequence: 1,
        source: 'events',
        id: reply.headers.get('x-event-id'),
      });
    }
  });

  it('replies 201 with the priced order, its location and a tracking token for its channel', async () => {
    const pizza = await addProduct(5, '9.50');
    const cola = await addProduct(5, '2.25', 'cola');
    const reply = await call(
      'POST',
      '/orders',
      {
        customer: 'ada',
        address: '1 Loop Road',
        items: [
          { product_id: pizza, quantity: 2 },
          { product_id: cola, quantity: 3 },
        ],
      },
      { 'x-correlation-id': 'corr-place-1' },
    );
    expect(reply.status).toBe(201);
    const id = reply.body['id'] as string;
    expect(reply.headers.get('location')).toBe(`/orders/${id}`);
    expect(reply.headers.get('x-correlation-id')).toBe('corr-place-1');
    expect(reply.body).toMatchObject({ status: 'created', sequence: 1, total: '25.75', customer: 'ada' });
    expect(reply.body['items']).toEqual(
      expect.arrayContaining([
        { product_id: pizza, name: 'margherita', quantity: 2, unit_price: '9.50', line_total: '19.00' },
        { product_id: cola, name: 'cola', quantity: 3, unit_price: '2.25', line_total: '6.75' },
      ]),
    );
    const tracking = reply.body['tracking'] as { token: string; channel: string };
    expect(tracking.channel).toBe(`order:${id}`);
    expect(await verifyTrackingToken(tracking.token, SECRET)).toMatchObject({
      orderId: id,
      channel: `order:${id}`,
    });

    const renew = (token: string | undefined, orderId = id) =>
      call('POST', `/orders/${orderId}/tracking-token`, undefined, {
        authorization: token === undefined ? '' : `Bearer ${token}`,
      });
    const renewed = await renew(tracking.token);
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ channel: `order:${id}` });
    expect(await verifyTrackingToken(renewed.body['token'] as string, SECRET)).toMatchObject({ orderId: id });
    expect((await renew(undefined)).status).toBe(401);
    expect((await renew('garbled.token.here')).body).toMatchObject({ error: 'unauthorized' });
    expect((await renew(TOKEN)).status).toBe(401); // an API token is not a tracking token
    const other = await renew(tracking.token, '0190f6a4-7c1e-7000-8000-000000000001');
    expect(other.status).toBe(403);
    expect(other.body['message']).toMatch(/another order/);

    const [created] = await eventsOf(id);
    expect(created.event).toMatchObject({
      type: 'order.created',
      correlationid: 'corr-place-1',
      data: { order_id: id, total: '25.75', status: 'created' },
    });
    expect((await call('GET', `/orders/${id}`)).body).toMatchObject({
      id,
      status: 'created',
      total: '25.75',
    });
  });

  it('refuses a short line naming it and changes nothing, not even the lines it could reserve', async () => {
    const plenty = await addProduct(50);
    const scarce = await addProduct(1);
    const unknown = uuidv7();
    const reply = await call('POST', '/orders', {
      customer: 'bob',
      address: '2 Loop Road',
      items: [
        { product_id: plenty, quantity: 5 },
        { product_id: scarce, quantity: 2 },
      ],
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({
      error: 'insufficient_stock',
      product_id: scarce,
      requested: 2,
      available: 1,
    });
    expect(String(reply.body['message'])).toContain(scarce);
    expect([await stockOf(plenty), await stockOf(scarce)]).toEqual([50, 1]);
    expect((await pool.query("select count(*)::int as n from orders where customer = 'bob'")).rows[0].n).toBe(
      0,
    );

    const missing = await call('POST', '/orders', order(unknown));
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ error: 'unknown_product', product_id: unknown });

    const invalid = await call('POST', '/orders', {
      customer: '',
      address: 'x',
      items: [{ product_id: 'nope', quantity: 0 }],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: 'validation_failed' });
    expect((invalid.body['issues'] as { field: string }[]).map((i) => i.field)).toEqual([
      'customer',
      'items[0].product_id',
      'items[0].quantity',
    ]);
  });

  it('replays an Idempotency-Key with the same body and refuses it with another', async () => {
    const productId = await addProduct(10);
    const key = `idem-${uuidv7()}`;
    const first = await call('POST', '/orders', order(productId, 2), { 'idempotency-key': key });
    const [again, concurrent] = await Promise.all([
      call('POST', '/orders', order(productId, 2), { 'idempotency-key': key }),
      call('POST', '/orders', order(productId, 2), { 'idempotency-key': key }),
    ]);
    expect([first.status, again.status, concurrent.status]).toEqual([201, 201, 201]);
    expect(again.body['id']).toBe(first.body['id']);
    expect(concurrent.body['id']).toBe(first.body['id']);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-event-id')).toBe(first.headers.get('x-event-id'));
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await stockOf(productId)).toBe(8);
    expect(await eventsOf(first.body['id'] as string)).toHaveLength(1);

    const conflict = await call('POST', '/orders', order(productId, 3), { 'idempotency-key': key });
    expect(conflict.status).toBe(422);
    expect(conflict.body).toMatchObject({ error: 'idempotency_key_reused' });
    expect(await stockOf(productId)).toBe(8);
  });

  it('walks the lifecycle, bumping the sequence and recording order.<status> at each step', async () => {
    const productId = await addProduct(3);
    const id = (await call('POST', '/orders', order(productId))).body['id'] as string;
    const steps = ['confirm', 'prepare', 'ready', 'dispatch', 'deliver'] as const;
    for (const step of steps) expect((await call('POST', `/orders/${id}/${step}`)).status).toBe(200);
    const final = await call('GET', `/orders/${id}`);
    expect(final.body).toMatchObject({ status: 'delivered', sequence: 6 });
    const events = (await eventsOf(id)).map((m) => [m.event.type, m.event.sequence]);
    expect(events).toEqual([
      ['order.created', 1],
      ['order.confirmed', 2],
      ['order.preparing', 3],
      ['order.ready', 4],
      ['order.out_for_delivery', 5],
      ['order.delivered', 6],
    ]);
  });

  it('refuses an illegal move with 409 naming the current and allowed states, and changes nothing', async () => {
    const productId = await addProduct(3);
    const id = (await call('POST', '/orders', order(productId))).body['id'] as string;
    const reply = await call('POST', `/orders/${id}/deliver`);
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({
      error: 'illegal_transition',
      current: 'created',
      requested: 'delivered',
      allowed: ['confirmed', 'cancelled'],
    });
    expect(String(reply.body['message'])).toMatch(
      /is created: cannot move to delivered; allowed from created: confirmed, cancelled/,
    );
    expect((await call('GET', `/orders/${id}`)).body).toMatchObject({ status: 'created', sequence: 1 });
    expect(await eventsOf(id)).toHaveLength(1);
    expect((await call('POST', `/orders/${id}/teleport`)).status).toBe(404);
    expect((await call('POST', `/orders/${uuidv7()}/confirm`)).status).toBe(404);
  });

  it('cancels with a restock in the same transaction, and only before dispatch', async () => {
    const productId = await addProduct(10);
    const id = (await call('POST', '/orders', order(productId, 4))).body['id'] as string;
    expect(await stockOf(productId)).toBe(6);
    await call('POST', `/orders/${id}/confirm`);
    const cancelled = await call('POST', `/orders/${id}/cancel`, { reason: 'customer changed their mind' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', sequence: 3 });
    expect(await stockOf(productId)).toBe(10);
    const last = (await eventsOf(id)).at(-1)!;
    expect(last.event).toMatchObject({
      type: 'order.cancelled',
      sequence: 3,
      data: {
        previous_status: 'confirmed',
        reason: 'customer changed their mind',
        restocked: [{ product_id: productId, quantity: 4 }],
      },
    });
    // A second cancel is illegal and must not restock twice.
    expect((await call('POST', `/orders/${id}/cancel`)).status).toBe(409);
    expect(await stockOf(productId)).toBe(10);

    const dispatched = (await call('POST', '/orders', order(productId, 1))).body['id'] as string;
    for (const step of ['confirm', 'prepare', 'ready', 'dispatch'])
      await call('POST', `/orders/${dispatched}/${step}`);
    const late = await call('POST', `/orders/${dispatched}/cancel`);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ current: 'out_for_delivery', allowed: ['delivered'] });
    expect(await stockOf(productId)).toBe(9);
  });

  it('lists orders newest first, filtered by status and customer, a page at a time', async () => {
    const productId = await addProduct(10);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call('POST', '/orders', order(productId, 1, 'paging-customer'))).body['id'] as string);
    await call('POST', `/orders/${ids[0]}/confirm`);

    const page1 = await call('GET', '/orders?customer=paging-customer&limit=2');
    expect((page1.body['items'] as { id: string }[]).map((o) => o.id)).toEqual([ids[4], ids[3]]);
    const page2 = await call(
      'GET',
      `/orders?customer=paging-customer&limit=2&before=${String(page1.body['next'])}`,
    );
    expect((page2.body['items'] as { id: string }[]).map((o) => o.id)).toEqual([ids[2], ids[1]]);
    const confirmed = await call('GET', '/orders?customer=paging-customer&status=confirmed');
    expect(confirmed.body).toMatchObject({ items: [{ id: ids[0], status: 'confirmed' }], next: null });
    expect((await call('GET', '/orders?status=lost')).status).toBe(400);
  });

  it('needs a bearer token to write, JSON bodies, and serves its OpenAPI document', async () => {
    const productId = await addProduct(1);
    const anonymous = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order(productId)),
    });
    expect(anonymous.status).toBe(401);
    const notJson = await call('POST', '/orders', undefined, { 'content-type': 'text/plain' });
    expect(notJson.status).toBe(415);
    expect(await stockOf(productId)).toBe(1);

    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/orders', '/orders/{id}', '/orders/{id}/confirm', '/orders/{id}/cancel']),
    );
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });

  it('counts placed orders and transitions for /metrics', async () => {
    const placed = await metricsRegistry().getSingleMetricAsString('orders_placed_total');
    expect(placed).toMatch(/orders_placed_total\{outcome="created"\} \d+/);
    expect(placed).toMatch(/orders_placed_total\{outcome="insufficient_stock"\} 9\d/);
    expect(placed).toMatch(/orders_placed_total\{outcome="replayed"\} 2/);
    const moved = await metricsRegistry().getSingleMetricAsString('order_transitions_total');
    expect(moved).toMatch(/order_transitions_total\{status="cancelled",trigger="api"\} 1/);
  });
});
