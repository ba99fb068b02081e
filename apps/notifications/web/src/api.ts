import type { Product } from './product-state';

/** Where the page finds the public APIs, from `live-page/config.json` (the notifications app serves it). */
export interface PageConfig {
  crudUrl: string;
  eventsUrl: string;
  wsUrl: string;
  /** The development stack's well-known token, offered only outside production. */
  devToken?: string;
}

export async function loadPageConfig(): Promise<PageConfig> {
  const response = await fetch('live-page/config.json');
  const config = (await response.json()) as { crud_url?: string; events_url?: string; dev_token?: string };
  const ws = new URL('ws', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    crudUrl: (config.crud_url || location.origin).replace(/\/$/, ''),
    eventsUrl: (config.events_url || location.origin).replace(/\/$/, ''),
    wsUrl: ws.toString(),
    devToken: config.dev_token,
  };
}

/** An API answer that is not 2xx, with the server's own message (a 400 names the field). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(url: string, init: RequestInit, token: string | undefined): Promise<T> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body) headers.set('Content-Type', 'application/json');
  const response = await fetch(url, { ...init, headers });
  const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
  if (!response.ok) {
    const message = Array.isArray(body?.message) ? body.message.join('; ') : String(body?.message ?? '');
    throw new ApiCallError(response.status, `${response.status} ${message || response.statusText}`);
  }
  return body as T;
}

export function listProducts(config: PageConfig, token: string | undefined): Promise<Product[]> {
  return call<Product[]>(
    `${config.crudUrl}/crud/product?select=id,name,price,category,stock&order=name.asc&limit=200`,
    {},
    token,
  );
}

export interface OrderLineInput {
  product_id: string;
  quantity: number;
}

/** What `POST /orders` answers: the order and its tracking token. */
export interface PlacedOrder {
  id: string;
  status: string;
  total: string;
  tracking: { token: string; channel: string; expires_at: string };
}

export function placeOrder(
  config: PageConfig,
  token: string,
  order: { customer: string; address: string; items: OrderLineInput[] },
): Promise<PlacedOrder> {
  return call<PlacedOrder>(
    `${config.eventsUrl}/orders`,
    { method: 'POST', body: JSON.stringify(order), headers: { 'Idempotency-Key': crypto.randomUUID() } },
    token,
  );
}
