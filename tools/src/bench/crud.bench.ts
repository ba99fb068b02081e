// npm run bench:crud — the crud app (the real main.ts, its own process) against a bare node:http + pg
// handler (its own process) running the same SQL, on the same PostgreSQL in the same run:
// GET /crud/product/:id, POST /crud/product and a PostgREST-style filtered list with
// Prefer: count=exact, first at full speed (req/s, ratio), then at a fixed rate (p50/p99). PostgreSQL is started here unless DATABASE_URL is given.
import { once } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { PostgresServer, freePort, startPostgres } from '@choreo/testing';
import {
  autocannon,
  BenchServer,
  benchServerReady,
  CannonRequest,
  cpuTicks,
  spawnBenchServer,
} from './bench-server';
import { writeBenchmarkSection } from './streams/bench-section';
import { exitOnHelp, fmt, median } from './bench-stats';

exitOnHelp(`
npm run bench:crud

The crud app (the real main.ts, its own process) against a bare node:http + pg handler running the same
SQL on the same PostgreSQL in the same run: GET /crud/product/:id, POST /crud/product and a
PostgREST-style filtered list with Prefer: count=exact, first at full speed (req/s, CPU µs per request,
ratios), then at a fixed rate (p50/p99). Starts its own PostgreSQL unless DATABASE_URL is set.

Environment:
  BENCH_ROUNDS=3  BENCH_SECONDS=4  BENCH_CONNECTIONS=32  BENCH_RATE_SECONDS=4
  BENCH_GET_RATE=300  BENCH_POST_RATE=150  DATABASE_URL (optional)

Prints the table, records the crud section of docs/benchmarks.md, and last:
get_ratio=… post_ratio=… get_cpu_ratio=… post_cpu_ratio=… list_ratio=… list_cpu_ratio=…
`);

const TOKEN = 'bench-token-0123456789abcdef';
const POOL_MAX = 10;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const FULL_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const RATE_SECONDS = Number(process.env['BENCH_RATE_SECONDS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const GET_RATE = Number(process.env['BENCH_GET_RATE'] ?? 300);
/** The PostgREST-style list: two filters, an order, a page of 20, and the total (count=exact). */
const LIST_PATH = '/crud/product?category=eq.cat3&price=lt.60&order=price.desc&limit=20';
type Endpoint = 'get' | 'post' | 'list';
const POST_RATE = Number(process.env['BENCH_POST_RATE'] ?? 150);
const SEED_ROWS = 2000;
const repoRoot = path.resolve(__dirname, '../../..');

// ---------------------------------------------------------------------------------------------
// The bare handler: what a hand-written service would do, with the statements the crud path runs.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function serveBare(databaseUrl: string, port: number): void {
  const pool = new Pool({ connectionString: databaseUrl, max: POOL_MAX });
  const send = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const handle = async () => {
      const url = req.url ?? '/';
      if (req.method === 'GET' && url === LIST_PATH) {
        const where = 'FROM "product" WHERE "category" = $1 AND "price" < $2';
        const [page, total] = await Promise.all([
          pool.query(`SELECT * ${where} ORDER BY "price" DESC, "id" LIMIT 20`, ['cat3', '60']),
          pool.query(`SELECT count(*) AS n ${where}`, ['cat3', '60']),
        ]);
        const n = Number(total.rows[0].n);
        const range = page.rows.length > 0 ? `0-${page.rows.length - 1}` : '*';
        return send(res, page.rows.length < n ? 206 : 200, page.rows, { 'content-range': `${range}/${n}` });
      }
      if (req.method === 'GET' && url.startsWith('/crud/product/')) {
        const id = url.slice('/crud/product/'.length);
        if (!UUID.test(id)) return send(res, 400, { error: 'bad id' });
        const { rows } = await pool.query('SELECT * FROM "product" WHERE "id" = $1', [id]);
        if (rows.length === 0) return send(res, 404, { error: 'not found' });
        return send(res, 200, rows[0], { etag: `"${rows[0].version}"` });
      }
      if (req.method === 'POST' && url === '/crud/product') {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: 'unauthorized' });
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        if (typeof body.name !== 'string' || typeof body.price !== 'number' || body.price < 0) {
          return send(res, 400, { error: 'invalid' });
        }
        const { rows } = await pool.query(
          'INSERT INTO "product" ("id", "name", "price", "category", "stock") VALUES ($1, $2, $3, $4, $5) RETURNING *',
          [uuidv7(), body.name, String(body.price), body.category ?? null, body.stock ?? 0],
        );
        return send(res, 201, rows[0], { location: `/crud/product/${rows[0].id}`, etag: '"1"' });
      }
      return send(res, 404, { error: 'not found' });
    };
    handle().catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  server.listen(port, '127.0.0.1');
}

// ---------------------------------------------------------------------------------------------
// The driver.

type SideName = 'bare' | 'crud' | 'crud-untraced' | 'module-only';

type Side = BenchServer<SideName>;

interface SideResult {
  reqPerSec: number;
  perRound: number[];
  /** Median of this side's req/s ÷ bare's in the same round. */
  ratio: number;
  cpuMicrosPerRequest: number | undefined;
  failures: number;
  fixed: Measure;
}

interface Measure {
  reqPerSec: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU time (user + system) the server process spent per request: steadier than req/s on a busy machine. */
  cpuMicrosPerRequest: number | undefined;
}

// utime + stime of a process in clock ticks (Linux; 100 per second on every common kernel).
function requestsFor(endpoint: Endpoint, ids: string[]) {
  if (endpoint === 'list') return [{ method: 'GET', path: LIST_PATH, headers: { prefer: 'count=exact' } }];
  if (endpoint === 'get') {
    let next = 0;
    return [
      {
        method: 'GET',
        setupRequest: (request: CannonRequest) => ({
          ...request,
          path: `/crud/product/${ids[next++ % ids.length]}`,
        }),
      },
    ];
  }
  let n = 0;
  return [
    {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      setupRequest: (request: CannonRequest) => ({
        ...request,
        path: '/crud/product',
        body: JSON.stringify({ name: `bench ${n++}`, price: 9.99, category: 'bench', stock: 5 }),
      }),
    },
  ];
}

async function measure(
  side: Side,
  endpoint: Endpoint,
  ids: string[],
  seconds: number,
  rate?: number,
): Promise<Measure> {
  const cpuBefore = cpuTicks(side.child.pid);
  const result = await autocannon({
    url: side.url,
    connections: rate === undefined ? CONNECTIONS : Math.min(CONNECTIONS, 16),
    duration: seconds,
    overallRate: rate,
    requests: requestsFor(endpoint, ids),
  });
  const cpuAfter = cpuTicks(side.child.pid);
  return {
    reqPerSec: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest:
      cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
        ? undefined
        : ((cpuAfter - cpuBefore) * 10_000) / result.requests.total,
  };
}

const micros = (n: number | undefined) => (n === undefined ? 'n/a' : fmt(n));

async function main(): Promise<void> {
  // The machine may be shared: the figures say what else was running.
  const loadAtStart = os.loadavg()[0];
  let pg: PostgresServer | undefined;
  let databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    pg = await startPostgres({ fsync: false });
    databaseUrl = await pg.createDatabase('bench_crud');
  }
  const sides: Side[] = [];
  try {
    const crudEnv = {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: String(POOL_MAX),
      HOST: '127.0.0.1',
      API_TOKENS: TOKEN,
      LOG_LEVEL: 'warn',
      ENTITIES_DIR: path.join(repoRoot, 'entities'),
    };
    const start = async (name: SideName, args: string[], env: Record<string, string>) => {
      const port = await freePort();
      const side = spawnBenchServer(name, args, { ...crudEnv, ...env, PORT: String(port) }, port);
      sides.push(side);
      return side;
    };
    const crud = await start('crud', ['apps/crud/src/main.ts'], {});
    // The crud app creates the product table (schema sync) before it listens.
    await benchServerReady(crud, '/readyz');
    // The same app with OpenTelemetry off, and the crud module alone in a bare Nest app: where the
    // per-request cost goes.
    const untraced = await start('crud-untraced', ['apps/crud/src/main.ts'], { OTEL_SDK_DISABLED: 'true' });
    const moduleOnly = await start('module-only', ['apps/crud/src/crud/crud-module-only.main.ts'], {});
    const bare = await start('bare', [__filename, '--bare', databaseUrl], {});
    await Promise.all([
      benchServerReady(untraced, '/readyz'),
      benchServerReady(moduleOnly, '/crud/hello'),
      benchServerReady(bare, '/'),
    ]);

    const pool = new Pool({ connectionString: databaseUrl, max: 2 });
    const ids: string[] = [];
    for (let i = 0; i < SEED_ROWS; i++) ids.push(uuidv7());
    await pool.query(
      `INSERT INTO product (id, name, price, category, stock)
       SELECT id, 'seed ' || n, 10 + n % 90, 'cat' || n % 10, n FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [ids],
    );
    await pool.end();

    // The platform floor: the app's own /livez (no database, not logged, not traced), warmed up.
    await autocannon({ url: `${crud.url}/livez`, connections: CONNECTIONS, duration: 2, requests: [{}] });
    const floor = await autocannon({
      url: `${crud.url}/livez`,
      connections: CONNECTIONS,
      duration: 3,
      requests: [{}],
    });
    const floorRate = floor.requests.total / 3;
    process.stdout.write(`crud /livez: ${fmt(floorRate)} req/s\n`);

    const names = ['bare', 'crud', 'crud-untraced', 'module-only'] as const;
    const results: Record<string, Partial<Record<SideName, SideResult>>> = {};
    const rateOf = (endpoint: Endpoint) => (endpoint === 'post' ? POST_RATE : GET_RATE);
    for (const endpoint of ['get', 'post', 'list'] as const) {
      results[endpoint] = {};
      const all = [bare, crud, untraced, moduleOnly];
      const rate = rateOf(endpoint);
      for (const side of all) await measure(side, endpoint, ids, 2); // warm-up: JIT, pool connections
      const rounds = new Map<SideName, Measure[]>(all.map((side) => [side.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        // bare and crud back to back, alternating which goes first, so drift on a shared machine
        // does not favour one side; the two diagnostic sides after them.
        const order =
          round % 2 === 0 ? [bare, crud, untraced, moduleOnly] : [crud, bare, moduleOnly, untraced];
        for (const side of order)
          rounds.get(side.name)?.push(await measure(side, endpoint, ids, FULL_SECONDS));
      }
      const bareRounds = rounds.get('bare') ?? [];
      for (const side of all) {
        const own = rounds.get(side.name) ?? [];
        const fixed = await measure(side, endpoint, ids, RATE_SECONDS, rate);
        const cpu = own.map((m) => m.cpuMicrosPerRequest);
        const result: SideResult = {
          reqPerSec: median(own.map((m) => m.reqPerSec)),
          perRound: own.map((m) => m.reqPerSec),
          ratio: median(own.map((m, i) => m.reqPerSec / bareRounds[i].reqPerSec)),
          cpuMicrosPerRequest: cpu.every((c) => c !== undefined) ? median(cpu as number[]) : undefined,
          failures: own.reduce((sum, m) => sum + m.failures, 0) + fixed.failures,
          fixed,
        };
        results[endpoint][side.name] = result;
        process.stdout.write(
          `${endpoint.toUpperCase()} ${side.name}: ${fmt(result.reqPerSec)} req/s (rounds ${result.perRound.map(fmt).join(' ')}), ` +
            `÷ bare ${result.ratio.toFixed(2)}, ${micros(result.cpuMicrosPerRequest)} µs CPU/req; at ${rate} req/s: ` +
            `p50 ${fixed.p50} ms, p99 ${fixed.p99} ms; ${result.failures} failed\n`,
        );
      }
    }

    const measured = (endpoint: Endpoint, side: SideName) => {
      const result = results[endpoint][side];
      if (!result) throw new Error(`${side} was not measured for ${endpoint}`);
      return result;
    };
    const cpuRatio = (endpoint: Endpoint, side: SideName) => {
      const own = measured(endpoint, side).cpuMicrosPerRequest;
      const base = measured(endpoint, 'bare').cpuMicrosPerRequest;
      return own === undefined || base === undefined ? undefined : base / own;
    };
    const row = (label: string, endpoint: Endpoint, side: SideName) => {
      const result = measured(endpoint, side);
      const rate = rateOf(endpoint);
      return (
        `| ${label} | ${side} | ${fmt(result.reqPerSec)} | ${result.perRound.map(fmt).join(' ')} | ${result.ratio.toFixed(2)} |` +
        ` ${micros(result.cpuMicrosPerRequest)} | ${cpuRatio(endpoint, side)?.toFixed(2) ?? 'n/a'} |` +
        ` ${rate} | ${result.fixed.p50} / ${result.fixed.p99} | ${result.failures} |`
      );
    };
    const two = (n: number | undefined) => n?.toFixed(2) ?? 'n/a';
    const summary =
      `get_ratio=${measured('get', 'crud').ratio.toFixed(2)} post_ratio=${measured('post', 'crud').ratio.toFixed(2)} ` +
      `get_cpu_ratio=${two(cpuRatio('get', 'crud'))} post_cpu_ratio=${two(cpuRatio('post', 'crud'))} ` +
      `list_ratio=${measured('list', 'crud').ratio.toFixed(2)} list_cpu_ratio=${two(cpuRatio('list', 'crud'))}`;
    const section = [
      `\`npm run bench:crud\` — ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, Node ${process.version}, ` +
        `${pg ? 'its own PostgreSQL (fsync off)' : 'PostgreSQL from DATABASE_URL'}; ${SEED_ROWS} seeded products; ` +
        `load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (1-minute; the machine is shared).`,
      '',
      '- **crud**: the real app (`apps/crud/src/main.ts`: Nest on Fastify, the platform runtime — access log,',
      '  W3C trace context (no OTel SDK without an OTLP endpoint), Prometheus and correlation hooks — bearer auth, zod validation, the entity',
      `  repository), LOG_LEVEL=warn, pool ${POOL_MAX}, in its own process.`,
      '- **crud-untraced**: the same with OTEL_SDK_DISABLED=true (no trace context at all).',
      '- **module-only**: `CrudModule` alone in a bare Nest app on Fastify (`crud-module-only.main.ts`): no runtime.',
      '- **bare**: `node:http` + `pg` in its own process, same pool size, the same SQL (`SELECT * … WHERE id = $1`;',
      '  `INSERT … RETURNING *`, one autocommit statement as in the crud app), a token check and a minimal body check;',
      `  for the list (\`${LIST_PATH}\` with \`Prefer: count=exact\`) the page and a \`count(*)\` in parallel, and Content-Range.`,
      `- full speed: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${FULL_SECONDS} s per side after a 2 s warm-up, alternating which of`,
      `  bare and crud goes first; "÷ bare" is the median of the per-round ratios (both sides of a round run back to back). Then a fixed rate for ${RATE_SECONDS} s`,
      '  (autocannon, latencies corrected for coordinated omission). autocannon runs in this process, on the',
      '  same 2 cores as the four servers and PostgreSQL.',
      '- CPU µs/req: user + system CPU of the server process over a full-speed round, per request (median); less',
      '  sensitive than req/s to other work on the machine. "CPU ratio" = bare µs ÷ this side\'s µs.',
      `- platform floor: the crud app's own \`/livez\` (no database, no logging, no tracing) served ${fmt(floorRate)} req/s.`,
      '',
      '| endpoint | server | req/s (median) | per round | ÷ bare | CPU µs/req | CPU ratio | fixed rate req/s | p50 / p99 ms (fixed rate) | failed |',
      '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...names.map((side) => row('GET /crud/product/:id', 'get', side)),
      ...names.map((side) => row('POST /crud/product', 'post', side)),
      ...names.map((side) => row('GET list, 2 filters + count=exact', 'list', side)),
      '',
      `\`${summary}\` (targets: GET and POST ≥ 0.7 of bare in req/s, POST CPU ratio ≥ 0.5)`,
      '',
      'Figures move between runs on the shared machine; compare within a run, and prefer the CPU columns.',
    ].join('\n');
    process.stdout.write(`\n${summary}\n`);
    writeBenchmarkSection(path.join(repoRoot, 'docs/benchmarks.md'), 'crud', section);
  } finally {
    for (const side of sides) {
      side.child.kill('SIGTERM');
      if (side.child.exitCode === null) await once(side.child, 'exit');
    }
    await pg?.stop();
  }
}

if (process.argv[2] === '--bare') {
  serveBare(process.argv[3], Number(process.env['PORT']));
} else {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:crud failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
