import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { DEV_API_TOKEN } from '@choreo/config';
import { DemoOrder, progressLine, summary, tallyProgress } from './demo-stats';

export const DEMO_USAGE = `Usage: npm run demo -- [options]

Places orders at a steady rate against the running system (npm start) and follows them as the
simulator's kitchen and couriers move them: live progress (placed, in flight, delivered, cancelled,
created → delivered p50/p99), then a summary. Orders pick 1–3 products that have stock.

Options:
  --rate N         orders per second (default 2; fractions allowed, e.g. 0.5)
  --duration S     seconds to keep placing orders (default 30)
  --drain S        then wait up to S seconds for the orders in flight to finish (default 120)
  --events-url U   the events app (default $EVENTS_URL or http://localhost:3002)
  --crud-url U     the crud app, to find products (default $CRUD_URL or http://localhost:3001)
  --token T        bearer token for POST /orders (default the first of $API_TOKENS, else the dev token)
  -h, --help       this text

Exit code: 0 when every placed order finished (delivered or cancelled), 1 when some were still in flight
after --drain or the system could not be reached, 2 on a bad option.
Tip: SIM_SPEED=10 npm start plays journeys ten times faster.`;

/** Where the demo writes; `live` rewrites the progress line in a terminal. */
export interface DemoOutput {
  out(line: string): void;
  err(line: string): void;
  /** Write the progress line in place (a TTY); otherwise a line every few seconds. */
  live?: (line: string) => void;
}

interface DemoOptions {
  rate: number;
  duration: number;
  drain: number;
  eventsUrl: string;
  crudUrl: string;
  token: string;
}

interface Product {
  id: string;
  name: string;
}

const STREETS = ['Loop Road', 'Rue de Rivoli', 'Canal Street', 'Market Lane', 'Station Road', 'Harbour Way'];
const PLACING_CONCURRENCY = 32;

/** Runs the demo; resolves to the exit code. */
export async function runDemo(
  argv: readonly string[],
  output: DemoOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const options = parseOptions(argv, output, env);
  if (typeof options === 'number') return options;
  const products = await loadProducts(options).catch((error: Error) => error);
  if (products instanceof Error) {
    output.err(`demo: ${products.message}`);
    return 1;
  }
  if (products.length === 0) {
    output.err(
      `demo: no product with stock at ${options.crudUrl}/crud/product. npm start seeds a menu into an empty ` +
        'product table; or create one: curl -X POST -H "Authorization: Bearer <token>" ' +
        `-H 'content-type: application/json' -d '{"name":"pizza","price":"9.50","stock":100}' ${options.crudUrl}/crud/product`,
    );
    return 1;
  }

  const customer = `demo-${randomUUID().slice(0, 8)}`;
  const placed: string[] = [];
  let refused = 0;
  let lastRefusal = '';
  const started = Date.now();
  const report = async () => {
    const progress = tallyProgress(placed.length, refused, await listOrders(options, customer));
    const line = progressLine(progress, (Date.now() - started) / 1000);
    if (output.live) output.live(line);
    else output.out(line);
    return progress;
  };

  output.out(
    `demo: placing ${options.rate} orders/s for ${options.duration} s as customer ${customer} ` +
      `(${products.length} products; events ${options.eventsUrl})`,
  );
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const inFlightRequests = new Set<Promise<void>>();
  let nextReport = started + (output.live ? 1000 : 5000);
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    if (inFlightRequests.size >= PLACING_CONCURRENCY) await Promise.race(inFlightRequests);
    const request = placeOrder(options, customer, products, n).then(
      (id) => void placed.push(id),
      (error: Error) => {
        refused++;
        lastRefusal = error.message;
      },
    );
    inFlightRequests.add(request);
    void request.finally(() => inFlightRequests.delete(request));
    if (Date.now() >= nextReport) {
      nextReport = Date.now() + (output.live ? 1000 : 5000);
      await report().catch(() => undefined);
    }
  }
  await Promise.all(inFlightRequests);
  if (lastRefusal) output.err(`demo: ${refused} orders refused; the last one: ${lastRefusal}`);

  const drainStarted = Date.now();
  let progress = await report();
  while (progress.inFlight > 0 && Date.now() - drainStarted < options.drain * 1000) {
    await sleep(1000);
    progress = await report().catch(() => progress);
  }
  if (output.live) output.out('');
  output.out(
    summary(progress, {
      rate: options.rate,
      duration: options.duration,
      drainedSeconds: (Date.now() - drainStarted) / 1000,
    }),
  );
  return progress.inFlight === 0 && placed.length > 0 ? 0 : 1;
}

function parseOptions(
  argv: readonly string[],
  output: DemoOutput,
  env: NodeJS.ProcessEnv,
): DemoOptions | number {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        rate: { type: 'string', default: '2' },
        duration: { type: 'string', default: '30' },
        drain: { type: 'string', default: '120' },
        'events-url': { type: 'string', default: env['EVENTS_URL'] ?? 'http://localhost:3002' },
        'crud-url': { type: 'string', default: env['CRUD_URL'] ?? 'http://localhost:3001' },
        token: { type: 'string', default: env['API_TOKENS']?.split(',')[0] || DEV_API_TOKEN },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (values.help) {
    output.out(DEMO_USAGE);
    return 0;
  }
  const numbers = {
    rate: Number(values.rate),
    duration: Number(values.duration),
    drain: Number(values.drain),
  };
  for (const [name, value] of Object.entries(numbers)) {
    const ok = name === 'drain' ? value >= 0 : value > 0;
    if (!Number.isFinite(value) || !ok || value > 86_400) {
      output.err(
        `--${name} must be a number ${name === 'drain' ? '>= 0' : '> 0'} (at most 86400), got ${values[name as keyof typeof numbers]}`,
      );
      return 2;
    }
  }
  for (const name of ['events-url', 'crud-url'] as const) {
    if (!URL.canParse(values[name])) {
      output.err(`--${name} must be a URL such as http://localhost:3002, got ${values[name]}`);
      return 2;
    }
  }
  return {
    ...numbers,
    eventsUrl: values['events-url'].replace(/\/$/, ''),
    crudUrl: values['crud-url'].replace(/\/$/, ''),
    token: values.token,
  };
}

async function loadProducts(options: DemoOptions): Promise<Product[]> {
  const url = `${options.crudUrl}/crud/product?stock=gt.0&select=id,name&limit=100`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${options.token}` } }).catch(
    (error: Error) => {
      throw new Error(
        `cannot reach the crud app at ${options.crudUrl} (is npm start running? --crud-url): ${error.message}`,
      );
    },
  );
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Product[];
}

async function placeOrder(
  options: DemoOptions,
  customer: string,
  products: readonly Product[],
  n: number,
): Promise<string> {
  const count = 1 + Math.floor(Math.random() * Math.min(3, products.length));
  const picked = [...products].sort(() => Math.random() - 0.5).slice(0, count);
  const body = {
    customer,
    address: `${1 + Math.floor(Math.random() * 200)} ${STREETS[n % STREETS.length]}`,
    items: picked.map((p) => ({ product_id: p.id, quantity: 1 + Math.floor(Math.random() * 2) })),
  };
  const response = await fetch(`${options.eventsUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /orders: ${response.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { id: string }).id;
}

// Every order of this run, newest first, page by page (keyset cursor `before`).
async function listOrders(options: DemoOptions, customer: string): Promise<DemoOrder[]> {
  const orders: DemoOrder[] = [];
  let before: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ customer, limit: '200', ...(before ? { before } : {}) });
    const response = await fetch(`${options.eventsUrl}/orders?${query}`, {
      headers: { authorization: `Bearer ${options.token}` },
    });
    if (!response.ok) throw new Error(`GET /orders: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { items: DemoOrder[]; next: string | null };
    orders.push(...page.items);
    if (!page.next) return orders;
    before = page.next;
  }
}
