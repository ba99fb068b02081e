// npm run bench:orders — POST /orders on the events app (the real main.ts, its own process) against a
// bare node:http + pg handler (its own process) running the same statements in one raw transaction
// per order (reserve each line, insert the order and its lines, emit the outbox message), on the same
// PostgreSQL in the same run: first at full speed (orders/s, ratio), then at a fixed rate (p50/p99).
import { once } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { PostgresServer, RedisServer, freePort, startPostgres, startRedis } from '@choreo/testing';
import { autocannon, BenchServer, benchServerReady, CannonRequest, spawnBenchServer } from './bench-server';
import { writeBenchmarkSection } from './streams/bench-section';
import { exitOnHelp, fmt, median } from './bench-stats';

exitOnHelp(`
npm run bench:orders

POST /orders on the events app (the real main.ts, its own process) against a bare node:http + pg handler
running the same statements in one raw transaction per order, on the same PostgreSQL in the same run:
full speed (orders/s, ratio), then a fixed rate (p50/p99). Starts its own PostgreSQL and Redis unless
DATABASE_URL / REDIS_URL are set.

Environment:
  BENCH_ROUNDS=3  BENCH_SECONDS=4  BENCH_CONNECTIONS=32  BENCH_RATE_SECONDS=5  BENCH_ORDER_RATE=150

Prints the table and last: orders_ratio=… (events ÷ bare orders/s)
`);

const TOKEN = 'bench-token-0123456789abcdef';
const POOL_MAX = 10;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const FULL_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const RATE_SECONDS = Number(process.env['BENCH_RATE_SECONDS'] ?? 5);
const ORDER_RATE = Number(process.env['BENCH_ORDER_RATE'] ?? 150);
const PRODUCTS = 200;
const LINES_PER_ORDER = 2;
const repoRoot = path.resolve(__dirname, '../../..');

// ---------------------------------------------------------------------------------------------
// The bare handler: the statements of placing an order, hand-written, one transaction per order.

interface PlaceOrder {
  customer: string;
  address: string;
  items: { product_id: string; quantity: number }[];
}

async function placeBare(client: PoolClient, body: PlaceOrder): Promise<{ status: number; body: unknown }> {
  const orderId = uuidv7();
  const items = [...body.items].sort((a, b) => (a.product_id < b.product_id ? -1 : 1));
  const lines: {
    product_id: string;
    quantity: number;
    name: string;
    unit_price: string;
    line_total: string;
  }[] = [];
  for (const item of items) {
    const { rows } = await client.query<{ name: string; unit_price: string; line_total: string }>(
      `update product set stock = stock - $2, version = version + 1, updated_at = now()
        where id = $1 and stock >= $2
       returning name, price::text as unit_price, (price * $2)::text as line_total`,
      [item.product_id, item.quantity],
    );
    if (!rows[0]) return { status: 409, body: { error: 'insufficient_stock', product_id: item.product_id } };
    lines.push({ ...item, ...rows[0] });
  }
  const { rows } = await client.query<{ total: string; created_at: Date }>(
    `insert into orders (id, customer, address, status, sequence, total)
     values ($1, $2, $3, 'created', 1, (select coalesce(sum(t), 0) from unnest($4::numeric[]) t))
     returning total::text as total, created_at`,
    [orderId, body.customer, body.address, lines.map((l) => l.line_total)],
  );
  await client.query(
    `insert into order_items (order_id, product_id, name, quantity, unit_price, line_total)
     select $1, * from unnest($2::uuid[], $3::text[], $4::int[], $5::numeric[], $6::numeric[])`,
    [
      orderId,
      lines.map((l) => l.product_id),
      lines.map((l) => l.name),
      lines.map((l) => l.quantity),
      lines.map((l) => l.unit_price),
      lines.map((l) => l.line_total),
    ],
  );
  const order = { id: orderId, status: 'created', ...body, items: lines, total: rows[0].total, sequence: 1 };
  const event = {
    id: uuidv7(),
    type: 'order.created',
    source: 'events',
    subject: orderId,
    time: new Date().toISOString(),
    sequence: 1,
    datacontenttype: 'application/json',
    data: {
      order_id: orderId,
      status: 'created',
      customer: body.customer,
      address: body.address,
      items: lines,
      total: rows[0].total,
    },
  };
  await client.query('select pg_logical_emit_message(true, $1, $2::text)', [
    'choreo.outbox',
    JSON.stringify({ aggregate: 'order', event }),
  ]);
  return { status: 201, body: order };
}

function serveBare(databaseUrl: string, port: number): void {
  const pool = new Pool({ connectionString: databaseUrl, max: POOL_MAX });
  const send = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const handle = async () => {
      if (req.method !== 'POST' || req.url !== '/orders') return send(res, 404, { error: 'not found' });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: 'unauthorized' });
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PlaceOrder;
      if (typeof body.customer !== 'string' || !Array.isArray(body.items) || body.items.length === 0) {
        return send(res, 400, { error: 'invalid' });
      }
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const placed = await placeBare(client, body);
        await client.query(placed.status === 201 ? 'COMMIT' : 'ROLLBACK');
        const id = (placed.body as { id?: string }).id;
        return send(res, placed.status, placed.body, id ? { location: `/orders/${id}` } : {});
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    handle().catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  server.listen(port, '127.0.0.1');
}

// ---------------------------------------------------------------------------------------------
// The driver.

type Side = BenchServer<'bare' | 'events' | 'events-untraced'>;

interface Measure {
  ordersPerSec: number;
  p50: number;
  p99: number;
  failures: number;
}

function orderRequests(productIds: string[]) {
  let n = 0;
  return [
    {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      setupRequest: (request: CannonRequest) => {
        n++;
        // Distinct products per order, spread over the catalogue: some row contention, like a shop.
        const first = (n * 7) % productIds.length;
        const items = Array.from({ length: LINES_PER_ORDER }, (_, i) => ({
          product_id: productIds[(first + i * 13) % productIds.length],
          quantity: 1 + (n % 3),
        }));
        return {
          ...request,
          path: '/orders',
          body: JSON.stringify({ customer: `bench-${n % 500}`, address: `${n} Bench Street`, items }),
        };
      },
    },
  ];
}

async function measure(side: Side, productIds: string[], seconds: number, rate?: number): Promise<Measure> {
  const result = await autocannon({
    url: side.url,
    connections: rate === undefined ? CONNECTIONS : Math.min(CONNECTIONS, 16),
    duration: seconds,
    overallRate: rate,
    requests: orderRequests(productIds),
  });
  return {
    ordersPerSec: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let databaseUrl = process.env['DATABASE_URL'];
  let redisUrl = process.env['REDIS_URL'];
  if (!databaseUrl) {
    pg = await startPostgres({ fsync: false });
    databaseUrl = await pg.createDatabase('bench_orders');
  }
  if (!redisUrl) {
    redis = await startRedis();
    redisUrl = redis.url;
  }
  const entitiesDir = path.join(repoRoot, 'entities');
  // The product table as the crud app would create it (the events app does not own it).
  const schemaOwner = new Database({ url: databaseUrl });
  await syncEntitySchema(schemaOwner, loadEntities(entitiesDir));
  await schemaOwner.close();

  const eventsEnv = {
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: String(POOL_MAX),
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    API_TOKENS: TOKEN,
    LOG_LEVEL: 'warn',
    ENTITIES_DIR: entitiesDir,
  };
  const sides: Side[] = [];
  try {
    const eventsPort = await freePort();
    const events = spawnBenchServer(
      'events',
      ['apps/events/src/main.ts'],
      { ...eventsEnv, PORT: String(eventsPort) },
      eventsPort,
    );
    sides.push(events);
    // The events app migrates its tables (orders, order_items, …) before it listens.
    await benchServerReady(events, '/readyz');
    const untracedPort = await freePort();
    const untraced = spawnBenchServer(
      'events-untraced',
      ['apps/events/src/main.ts'],
      { ...eventsEnv, PORT: String(untracedPort), OTEL_SDK_DISABLED: 'true' },
      untracedPort,
    );
    sides.push(untraced);
    const barePort = await freePort();
    const bare = spawnBenchServer(
      'bare',
      [__filename, '--bare', databaseUrl, String(barePort)],
      {},
      barePort,
    );
    sides.push(bare);
    await Promise.all([benchServerReady(untraced, '/readyz'), benchServerReady(bare, '/')]);

    const pool = new Pool({ connectionString: databaseUrl, max: 2 });
    const productIds = Array.from({ length: PRODUCTS }, () => uuidv7());
    await pool.query(
      `INSERT INTO product (id, name, price, category, stock)
       SELECT id, 'dish ' || n, 5 + (n % 20) + 0.5, 'bench', 100000000 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [productIds],
    );

    const runs = new Map<Side['name'], Measure[]>(sides.map((side) => [side.name, []]));
    for (const side of sides) await measure(side, productIds, 2); // warm-up: JIT, pool connections
    // Rounds rotate who goes first, so drift on a shared machine does not favour one side; the ratio
    // is the median of the per-round ratios of sides measured back to back.
    for (let round = 0; round < ROUNDS; round++) {
      const order = [bare, events, untraced];
      for (let i = 0; i < round; i++) order.push(order.shift() as Side);
      for (const side of order) {
        const full = await measure(side, productIds, FULL_SECONDS);
        runs.get(side.name)?.push(full);
        process.stdout.write(
          `round ${round + 1} ${side.name}: ${fmt(full.ordersPerSec)} orders/s (p50 ${full.p50} ms, p99 ${full.p99} ms, ${full.failures} failed)\n`,
        );
      }
    }
    const fixed = new Map<Side['name'], Measure>();
    for (const side of [bare, events, untraced]) {
      const measured = await measure(side, productIds, RATE_SECONDS, ORDER_RATE);
      fixed.set(side.name, measured);
      process.stdout.write(
        `${side.name} at ${ORDER_RATE}/s: p50 ${measured.p50} ms, p99 ${measured.p99} ms, ${fmt(measured.ordersPerSec)} orders/s done, ${measured.failures} failed\n`,
      );
    }
    const { rows } = await pool.query<{ negative: number; orders: number }>(
      `select (select count(*) from product where stock < 0)::int as negative, (select count(*) from orders)::int as orders`,
    );
    await pool.end();

    const ratioOf = (name: Side['name']) =>
      median((runs.get(name) ?? []).map((m, i) => m.ordersPerSec / (runs.get('bare') ?? [])[i].ordersPerSec));
    const ratio = ratioOf('events');
    const untracedRatio = ratioOf('events-untraced');
    const row = (label: string, name: Side['name']) => {
      const full = runs.get(name) ?? [];
      const rate = fixed.get(name) as Measure;
      const failures = full.reduce((n, m) => n + m.failures, rate.failures);
      return (
        `| ${label} | ${fmt(median(full.map((m) => m.ordersPerSec)))} | ${full.map((m) => fmt(m.ordersPerSec)).join(' ')} |` +
        ` ${rate.p50} / ${rate.p99} | ${fmt(rate.ordersPerSec)} | ${failures} |`
      );
    };
    const section = [
      `\`npm run bench:orders\` — ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, Node ${process.version}, ` +
        `${pg ? 'its own PostgreSQL (fsync off)' : 'PostgreSQL from DATABASE_URL'}; ${PRODUCTS} products, ` +
        `${LINES_PER_ORDER} lines per order; ${fmt(rows[0].orders)} orders placed in the run, ${rows[0].negative} products below zero stock.`,
      '',
      `- events: the real app (\`apps/events/src/main.ts\`, LOG_LEVEL=warn, pool ${POOL_MAX}, trace context as deployed without an OTLP endpoint) in its`,
      '  own process: Nest on Fastify, bearer auth, zod validation, stock reservation in product id order, order + lines,',
      '  `order.created` through `pg_logical_emit_message` (the outbox), all in one transaction; a signed tracking token.',
      '  events-untraced: the same with `OTEL_SDK_DISABLED=true`.',
      '- bare: `node:http` + `pg` in its own process, same pool size, the same statements in one raw transaction per',
      '  order (`UPDATE product … WHERE stock >= $2 RETURNING` per line, `INSERT orders`, `INSERT order_items … unnest`,',
      '  `pg_logical_emit_message`), a token check and a minimal body check; no tracking token.',
      `- full speed: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${FULL_SECONDS} s per side after a 2 s warm-up, rotating`,
      `  who goes first; fixed rate: ${ORDER_RATE} orders/s for ${RATE_SECONDS} s (autocannon, latencies corrected for`,
      '  coordinated omission). autocannon runs in this process, on the same 2 cores as the servers and PostgreSQL.',
      '',
      `| side | orders/s (median) | per round | p50 / p99 ms at ${ORDER_RATE} orders/s | done at ${ORDER_RATE}/s | failed |`,
      '| --- | ---: | --- | ---: | ---: | ---: |',
      row('bare pg transaction', 'bare'),
      row('events app', 'events'),
      row('events app, tracing off', 'events-untraced'),
      '',
      `\`orders_ratio=${ratio.toFixed(2)}\` (events ÷ bare orders/s, median of rounds; tracing off: ${untracedRatio.toFixed(2)})`,
      '',
      'The machine is shared with other engineers’ test runs: figures move between runs; compare within a run.',
    ].join('\n');
    writeBenchmarkSection(path.join(repoRoot, 'docs/benchmarks.md'), 'orders', section);
    process.stdout.write(`(run took ${Math.round((Date.now() - started) / 1000)} s)\n`);
    process.stdout.write(
      `orders_ratio=${ratio.toFixed(2)} (events ÷ bare orders/s, median of ${ROUNDS} rounds; tracing off: ${untracedRatio.toFixed(2)})\n`,
    );
  } finally {
    for (const side of sides) {
      side.child.kill('SIGTERM');
      if (side.child.exitCode === null) await once(side.child, 'exit');
    }
    await pg?.stop();
    await redis?.stop();
  }
}

if (process.argv[2] === '--bare') {
  serveBare(process.argv[3], Number(process.argv[4]));
} else {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:orders failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
