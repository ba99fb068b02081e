import type { Pool } from 'pg';
import { ORDER_LIFECYCLE } from '@choreo/contracts';
import { jsonClient, useSpecServers, waitFor } from '@choreo/testing';
import { Browser, launchChromium } from './browser';
import { LiveStack, startLiveStack } from './live-stack';
import {
  barsOnPage,
  chartOnPage,
  connectionShown,
  orderOnPage,
  recordFrames,
  replyTo,
  statusShown,
  stepsOnPage,
  stockCell,
  subscriptionsTo,
} from './live-page';

// The live page in real Chromium against the whole system (every app as `npm start` runs it, real
// Redis and PostgreSQL). One stack serves every test here: booting it is the slow part.

const servers = useSpecServers({ redis: true, postgres: true, database: 'choreo' });
let stack: LiveStack;
let browser: Browser;
let pool: Pool;

beforeAll(async () => {
  stack = await startLiveStack({
    redisUrl: servers.redis.url,
    databaseUrl: servers.databaseUrl,
    // A third of a journey (about 15 s) leaves time to cut the connection and to leave the page mid-way.
    env: { SIM_SPEED: '3', SIM_REJECT_RATE: '0' },
  });
  servers.atStop(() => stack.stop());
  browser = await launchChromium();
  servers.atStop(() => browser.close());
  pool = servers.pool();
}, 240_000);

/** The order as PostgreSQL has it: the truth the page is held to. */
async function orderRow(id: string): Promise<{ status: string; sequence: number }> {
  const { rows } = await pool.query<{ status: string; sequence: number }>(
    'select status, sequence from orders where id = $1',
    [id],
  );
  return rows[0];
}

/** Every lifecycle step exactly once, in order: what the page must list for a delivered order. */
const wholeLifecycle = ORDER_LIFECYCLE.map((status, i) => ({ sequence: i + 1, event: `order.${status}` }));

const call = (base: string) => jsonClient(base, { authorization: `Bearer ${stack.token}` });

async function createProduct(name: string, stock: number, category = 'drinks'): Promise<string> {
  const reply = await call(stack.urls.crud)('POST', '/crud/product', {
    name,
    price: '3.50',
    category,
    stock,
  });
  expect(reply.status).toBe(201);
  return (reply.body as { id: string }).id;
}

async function stockOf(id: string): Promise<number> {
  const reply = await call(stack.urls.crud)('GET', `/crud/product/${id}`);
  return (reply.body as { stock: number }).stock;
}

describe('the live page', () => {
  it('lists the menu from /crud/product and places an order with its form', async () => {
    const teaId = await createProduct('Tea', 10);
    await createProduct('Cake', 5);
    const page = await browser.newPage();
    await page.goto(stack.pageUrl);

    // The development stack hands the page its development token; nothing is baked into the bundle.
    await expect(page.locator('input[name="api-token"]').inputValue()).resolves.toBe(stack.token);
    await stockCell(page, 'Tea').and(page.locator('[data-stock="10"]')).waitFor();
    await stockCell(page, 'Cake').and(page.locator('[data-stock="5"]')).waitFor();

    const { orderId } = await orderOnPage(page, 'Tea', 2);
    const order = await call(stack.urls.events)('GET', `/orders/${orderId}`);
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ customer: 'Ada', total: '7.00' });
    expect(await stockOf(teaId)).toBe(8);

    await page.reload();
    await stockCell(page, 'Tea').and(page.locator('[data-stock="8"]')).waitFor();
    // The tracked order survives the reload.
    await expect(page.locator('section.tracking').getAttribute('data-order-id')).resolves.toBe(orderId);
    await browser.screenshot(page, 'menu-and-order');
    await page.close();
  });

  it('serves a bundle with no token in it: the page is handed the development token at run time', async () => {
    const html = await (await fetch(stack.pageUrl)).text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const response = await fetch(`${stack.pageUrl}${asset}`);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(await response.text()).not.toContain(stack.token);
    }
    const config = await (await fetch(`${stack.pageUrl}live-page/config.json`)).json();
    expect(config).toEqual({
      crud_url: stack.urls.crud,
      events_url: stack.urls.events,
      dev_token: stack.token,
    });
    expect((await fetch(`${stack.pageUrl}assets/..%2Fconfig.json`)).status).toBe(404);
  });
  it('follows the order it placed to delivered: each step once, with its time, the courier on the map', async () => {
    await createProduct('Soup', 20, 'soups');
    const page = await browser.newPage();
    await page.goto(stack.pageUrl);
    await stockCell(page, 'Soup').waitFor();
    const { orderId } = await orderOnPage(page, 'Soup', 1);

    await statusShown(page, 'delivered');
    await expect(orderRow(orderId)).resolves.toEqual({
      status: 'delivered',
      sequence: ORDER_LIFECYCLE.length,
    });
    expect(await stepsOnPage(page)).toEqual(wholeLifecycle);
    const times = await page.locator('ol.lifecycle li.done time').allTextContents();
    expect(times).toHaveLength(ORDER_LIFECYCLE.length);
    expect(times.every((t) => /\d:\d\d/.test(t))).toBe(true);
    // The courier moved (several fixes) and sits at the address, drawn as delivered.
    expect(Number(await page.locator('svg.map').getAttribute('data-fixes'))).toBeGreaterThan(1);
    await page.locator('svg.map circle.courier.delivered').waitFor();
    await browser.screenshot(page, 'order-delivered');
    await page.close();
  });

  it('resumes after its WebSocket is cut mid-journey, and after a reload: every step once, nothing missed', async () => {
    await createProduct('Bagel', 20, 'bakery');
    const page = await browser.newPage();
    const frames = recordFrames(page);
    await page.goto(stack.pageUrl);
    await stockCell(page, 'Bagel').waitFor();
    await connectionShown(page, 'live');
    const { orderId } = await orderOnPage(page, 'Bagel', 1);
    const channel = `order:${orderId}`;
    await page.locator('ul.steps li[data-step]').first().waitFor();

    // The network drops the page's connection and refuses new ones; the journey goes on without it.
    stack.pageProxy.cut(120_000);
    await connectionShown(page, 'reconnecting');
    const heldAtCut = (await stepsOnPage(page)).length;
    await waitFor('a step while cut off', async () => (await orderRow(orderId)).sequence > heldAtCut, 60_000);
    expect(await stepsOnPage(page)).toHaveLength(heldAtCut);
    stack.pageProxy.restore();
    await connectionShown(page, 'resumed');
    // It resumed from the last step it held: the server replays what follows, no snapshot.
    await replyTo(frames, channel, 2);
    const afterCut = subscriptionsTo(frames, channel);
    expect(afterCut).toHaveLength(2);
    expect(afterCut[1].since).toMatchObject({ offset: heldAtCut });
    expect(afterCut[1].reply).toMatchObject({ recovered: true, follows: 'replay', replay_after: heldAtCut });
    await page.locator(`ul.steps li[data-step="${heldAtCut + 1}"]`).waitFor();
    await browser.screenshot(page, 'resumed-after-cut');

    // The page goes away mid-journey and comes back (a reload) after more steps happened.
    const heldAtLeave = (await stepsOnPage(page)).length;
    expect(heldAtLeave).toBeLessThan(ORDER_LIFECYCLE.length);
    await page.goto('about:blank');
    await waitFor('a step while away', async () => (await orderRow(orderId)).sequence > heldAtLeave, 60_000);
    await page.goto(stack.pageUrl);
    await statusShown(page, 'delivered');
    await replyTo(frames, channel, 3);
    const afterReload = subscriptionsTo(frames, channel);
    expect(afterReload).toHaveLength(3);
    expect(afterReload[2].since).toMatchObject({ offset: heldAtLeave });
    expect(afterReload[2].reply).toMatchObject({
      recovered: true,
      follows: 'replay',
      replay_after: heldAtLeave,
    });

    // Every step exactly once, in order, as PostgreSQL has them; a plain reload adds nothing.
    await expect(orderRow(orderId)).resolves.toEqual({
      status: 'delivered',
      sequence: ORDER_LIFECYCLE.length,
    });
    expect(await stepsOnPage(page)).toEqual(wholeLifecycle);
    await page.reload();
    await statusShown(page, 'delivered');
    await connectionShown(page, 'live');
    expect(await stepsOnPage(page)).toEqual(wholeLifecycle);
    await browser.screenshot(page, 'cut-and-reload');
    await page.close();
  });

  it('updates the dashboard live, and its figures equal the SQL truth', async () => {
    await createProduct('Pie', 20, 'bakery');
    const page = await browser.newPage();
    await page.goto(stack.pageUrl);
    await stockCell(page, 'Pie').waitFor();
    const truth = async () => {
      const orders = await pool.query<{ n: number; revenue: string }>(
        'select count(*)::int as n, coalesce(sum(total), 0)::text as revenue from orders',
      );
      // Delivery time by the 5-minute window (epoch aligned) of the delivery, the latest window.
      const delivery = await pool.query<{ windows: number; average: number | null }>(
        `with d as (select date_bin('5 minutes', updated_at, 'epoch') as w,
                           extract(epoch from updated_at - created_at)::float8 as s
                    from orders where status = 'delivered')
         select (select count(distinct w) from d)::int as windows,
                (select avg(s) from d where w = (select max(w) from d)) as average`,
      );
      const categories = await pool.query<{ category: string; n: number }>(
        'select category, count(*)::int as n from product group by category',
      );
      return {
        orders: orders.rows[0].n,
        revenue: Number(orders.rows[0].revenue),
        deliveryWindows: delivery.rows[0].windows,
        averageDelivery: delivery.rows[0].average,
        categories: Object.fromEntries(categories.rows.map((r) => [r.category, r.n])),
      };
    };
    const shown = async () => {
      const [orders, revenue, delivery] = await Promise.all(
        ['orders_per_minute', 'revenue_5m', 'delivery_time_5m'].map((rule) => chartOnPage(page, rule)),
      );
      return {
        orders: orders.total ?? 0,
        revenue: revenue.total ?? 0,
        deliveryWindows: delivery.windows,
        averageDelivery: delivery.latest ?? null,
        categories: await barsOnPage(page),
      };
    };
    // Event times and row timestamps are taken a few milliseconds apart, in the same transaction.
    const same = (a: Awaited<ReturnType<typeof truth>>, b: Awaited<ReturnType<typeof truth>>) =>
      a.orders === b.orders &&
      Math.abs(a.revenue - b.revenue) < 0.005 &&
      a.deliveryWindows === b.deliveryWindows &&
      (a.averageDelivery === null) === (b.averageDelivery === null) &&
      Math.abs((a.averageDelivery ?? 0) - (b.averageDelivery ?? 0)) < 0.1 &&
      JSON.stringify(Object.entries(a.categories).sort()) ===
        JSON.stringify(Object.entries(b.categories).sort());
    const settled = async () => {
      let last = { page: await shown(), sql: await truth() };
      try {
        await waitFor(
          'the dashboard = SQL',
          async () => {
            last = { page: await shown(), sql: await truth() };
            return same(last.page, last.sql);
          },
          60_000,
          250,
        );
      } catch {
        expect(last.page).toEqual(last.sql);
      }
      return last.page;
    };

    const before = await settled();
    const { orderId } = await orderOnPage(page, 'Pie', 2);
    await statusShown(page, 'delivered');
    const after = await settled();
    // It moved while the page was open: one more order, its total in the revenue, its delivery charted.
    expect(after.orders).toBe(before.orders + 1);
    const order = await call(stack.urls.events)('GET', `/orders/${orderId}`);
    expect(after.revenue - before.revenue).toBeCloseTo(Number(order.body['total']), 2);
    expect(after.deliveryWindows).toBeGreaterThanOrEqual(1);
    expect(after.categories['bakery']).toBeGreaterThanOrEqual(1);
    await browser.screenshot(page, 'dashboard');
    await page.close();
  });
});
