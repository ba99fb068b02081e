import type { Locator, Page } from 'playwright-core';
import { jsonClient, useSpecServers } from '@choreo/testing';
import { Browser, launchChromium } from './browser';
import { LiveStack, startLiveStack } from './live-stack';

// The live page in real Chromium against the whole system (every app as `npm start` runs it, real
// Redis and PostgreSQL).

const servers = useSpecServers({ redis: true, postgres: true, database: 'choreo' });
let stack: LiveStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startLiveStack({
    redisUrl: servers.redis.url,
    databaseUrl: servers.databaseUrl,
    env: { SIM_SPEED: '4', SIM_REJECT_RATE: '0' },
  });
  servers.atStop(() => stack.stop());
  browser = await launchChromium();
  servers.atStop(() => browser.close());
}, 240_000);

const call = (base: string) => jsonClient(base, { authorization: `Bearer ${stack.token}` });

async function createProduct(name: string, stock: number): Promise<string> {
  const reply = await call(stack.urls.crud)('POST', '/crud/product', {
    name,
    price: '3.50',
    category: 'drinks',
    stock,
  });
  expect(reply.status).toBe(201);
  return (reply.body as { id: string }).id;
}

async function stockOf(id: string): Promise<number> {
  const reply = await call(stack.urls.crud)('GET', `/crud/product/${id}`);
  return (reply.body as { stock: number }).stock;
}

const stockCell = (page: Page, name: string) => page.locator(`tr[data-product="${name}"] [data-stock]`);

async function orderOnPage(
  page: Page,
  product: string,
  quantity: number,
): Promise<{ orderId: string; tracking: Locator }> {
  await page.getByLabel(`quantity of ${product}`).fill(String(quantity));
  await page.getByRole('button', { name: 'Place order' }).click();
  const tracking = page.locator('section.tracking[data-order-id]');
  await tracking.waitFor();
  return { orderId: (await tracking.getAttribute('data-order-id')) ?? '', tracking };
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
});
