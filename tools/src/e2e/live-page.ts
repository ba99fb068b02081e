import type { Locator, Page } from 'playwright-core';
import { waitFor } from '@choreo/testing';

/** What the browser tests read off the live page, through its data attributes. */

export const stockCell = (page: Page, name: string) =>
  page.locator(`tr[data-product="${name}"] [data-stock]`);

/** Fills the form with `quantity` of `product` and places the order; resolves once the page tracks it. */
export async function orderOnPage(
  page: Page,
  product: string,
  quantity: number,
): Promise<{ orderId: string; tracking: Locator }> {
  await page.getByLabel(`quantity of ${product}`).fill(String(quantity));
  // The id from POST /orders itself: the page may still show an order tracked before (localStorage).
  const [reply] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/orders'),
    page.getByRole('button', { name: 'Place order' }).click(),
  ]);
  if (reply.status() !== 201)
    throw new Error(`POST /orders answered ${reply.status()}: ${await reply.text()}`);
  const orderId = ((await reply.json()) as { id: string }).id;
  const tracking = page.locator(`section.tracking[data-order-id="${orderId}"]`);
  await tracking.waitFor();
  return { orderId, tracking };
}

/** The tracked order's steps as the page lists them ("events received"), in the order shown. */
export async function stepsOnPage(page: Page): Promise<{ sequence: number; event: string }[]> {
  return page.locator('ul.steps li[data-step]').evaluateAll((items) =>
    items.map((li) => ({
      sequence: Number(li.getAttribute('data-step')),
      event: li.getAttribute('data-event') ?? '',
    })),
  );
}

/** Resolves once the page shows `status` as the tracked order's current status. */
export const statusShown = (page: Page, status: string, timeout = 90_000) =>
  page.locator(`section.tracking [data-status="${status}"]`).waitFor({ timeout });

/** Resolves once the connection indicator reads `indicator` (live, reconnecting, resumed …). */
export const connectionShown = (page: Page, indicator: string, timeout = 30_000) =>
  page.locator(`header [data-connection="${indicator}"]`).waitFor({ timeout });

/** A dashboard chart's figures: windows held, the sum over them, the latest window's value. */
export async function chartOnPage(
  page: Page,
  rule: string,
): Promise<{ windows: number; total: number | undefined; latest: number | undefined }> {
  const chart = page.locator(`figure.chart[data-rule="${rule}"]`);
  const number = (text: string | null) => (text ? Number(text) : undefined);
  return {
    windows: Number(await chart.getAttribute('data-windows')),
    total: number(await chart.getAttribute('data-total')),
    latest: number(await chart.locator('[data-latest]').getAttribute('data-latest')),
  };
}

/** The bars of the products-per-category chart: category → products. */
export async function barsOnPage(page: Page): Promise<Record<string, number>> {
  const rows = await page
    .locator('figure.chart[data-rule="products_per_category"] li[data-group]')
    .evaluateAll((items) =>
      items.map(
        (li) => [li.getAttribute('data-group') ?? '', Number(li.getAttribute('data-value'))] as const,
      ),
    );
  return Object.fromEntries(rows);
}

/** A realtime protocol frame the page sent or received (parsed JSON), with its direction. */
export interface WireFrame {
  sent: boolean;
  frame: Record<string, unknown>;
}

/**
 * Records every frame of every WebSocket the page opens (across reloads and reconnects), so a test
 * can check how a subscription resumed: the `since` it sent and the `subscribed` reply it got.
 */
export function recordFrames(page: Page): WireFrame[] {
  const frames: WireFrame[] = [];
  const keep = (sent: boolean) => (event: { payload: string | Buffer }) => {
    try {
      frames.push({ sent, frame: JSON.parse(event.payload.toString()) as Record<string, unknown> });
    } catch {
      // not a protocol frame
    }
  };
  page.on('websocket', (socket) => {
    socket.on('framesent', keep(true));
    socket.on('framereceived', keep(false));
  });
  return frames;
}

/** Resolves once the page's `n`th subscribe to `channel` (1-based) got its `subscribed` reply. */
export async function replyTo(frames: WireFrame[], channel: string, n: number): Promise<void> {
  await waitFor(
    `the reply to subscribe #${n} to ${channel}`,
    async () => subscriptionsTo(frames, channel)[n - 1]?.reply !== undefined,
    30_000,
  );
}

/** Each subscribe to `channel` the page sent, paired with the `subscribed` reply it got. */
export function subscriptionsTo(
  frames: WireFrame[],
  channel: string,
): { since?: { offset: number }; reply?: Record<string, unknown> }[] {
  const requests = frames.filter(
    (f) => f.sent && f.frame['type'] === 'subscribe' && f.frame['channel'] === channel,
  );
  return requests.map(({ frame }) => ({
    since: frame['since'] as { offset: number } | undefined,
    reply: frames.find(
      (f) =>
        !f.sent &&
        f.frame['type'] === 'subscribed' &&
        f.frame['channel'] === channel &&
        f.frame['id'] === frame['id'] &&
        frames.indexOf(f) > frames.findIndex((r) => r.frame === frame),
    )?.frame,
  }));
}
