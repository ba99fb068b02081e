import { INestApplication } from '@nestjs/common';
import { Registry } from 'prom-client';
import { fieldMap, Streams } from '@choreo/contracts';
import { metricsRegistry } from '@choreo/observability';
import { createHttpApp } from '@choreo/runtime';
import { StreamPublisher } from '@choreo/streams';
import { jsonClient, promtoolProblems, waitFor } from '@choreo/testing';
import { AggregatorModule } from './aggregator.module';
import { aggregatorTransport } from './stream/aggregator.transport';
import {
  Backbone,
  ENTITIES_DIR,
  Sale,
  aggregatesStream,
  deliveryOrder,
  makeSales,
  oracleWindows,
  random,
  restShape,
  rulesDir,
  saleEvent,
  startBackbone,
} from './test-fixtures/aggregator-harness';
import { loadRuleSet } from './windows/rule-set';

const RULES = ['sale_tumbling', 'sale_hopping', 'sale_session'] as const;

// The aggregator against a batch SQL oracle: the same sales in a plain table, the expected windows by
// SQL, compared with what the aggregator serves once its windows closed — for input delivered out of
// order (within the allowed lateness), with duplicates, in batches; sales later than that are reported.
describe('aggregator: windows equal a batch SQL oracle (real PostgreSQL, Redis and cdc-relay)', () => {
  let backbone: Backbone;
  let app: INestApplication;
  let base: string;
  const rules = loadRuleSet(rulesDir(), ENTITIES_DIR);

  beforeAll(async () => {
    backbone = await startBackbone('aggregator');
    app = await createHttpApp(
      AggregatorModule.forRoot({
        database: { url: backbone.url, poolMax: 6 },
        rules,
        settings: { idleMs: 1_500, tickMs: 100, batchMax: 50 },
      }),
      { logger: false },
    );
    app.connectMicroservice(
      {
        strategy: aggregatorTransport(rules, {
          redisUrl: backbone.redisServer.url,
          batchMax: 50,
          consumer: 'aggregator-spec',
          blockMs: 100,
          claimIntervalMs: 50,
          maxAttempts: 2,
          retry: { baseMs: 20, maxMs: 50, jitter: 0 },
          metricsIntervalMs: 0,
          registry: new Registry(),
        }),
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await backbone?.stop();
  });

  const get = (path: string) => jsonClient(base)('GET', path);

  it('equals the oracle for every window kind and measure; too-late sales are recorded, not counted', async () => {
    const next = random(20261205);
    // A minute ago, so that once the stream goes quiet the idle watermark closes every window.
    const start = Math.floor((Date.now() - 60_000) / 1000) * 1000;
    const sales = makeSales(next, 400, start, 20_000);
    const order = deliveryOrder(next, sales, 2_000, 0.15);
    // Far behind the watermark (over 10 s of event time): later than the 3 s lateness of every window.
    const tooLate: Sale[] = makeSales(next, 12, start, 2_000).map((s, i) => ({ ...s, id: `late-${i}` }));
    const publisher = new StreamPublisher(backbone.redis);
    for (let i = 0; i < order.length; i += 40) {
      await publisher.publishBatch(
        order.slice(i, i + 40).map((s) => ({ stream: Streams.entityEvents('sale'), event: saleEvent(s) })),
      );
    }
    for (const sale of tooLate) await publisher.publish(Streams.entityEvents('sale'), saleEvent(sale));

    await waitFor(
      'every window closed',
      async () => {
        const open = await backbone.sql.query(
          'select count(*)::int as n from aggregate_window where not final',
        );
        const late = await backbone.sql.query(
          "select count(distinct event_id)::int as n from aggregate_late where rule = 'sale_tumbling'",
        );
        return open.rows[0].n === 0 && late.rows[0].n === tooLate.length;
      },
      60_000,
    );

    const expected = await oracleWindows(backbone.sql, 'sale_oracle', sales);
    for (const rule of RULES) {
      const reply = await get(`/aggregates/${rule}?limit=1000`);
      expect(reply.status).toBe(200);
      const windows = (reply.body as { windows: Record<string, unknown>[] }).windows;
      expect(windows.every((w) => w['final'] === true)).toBe(true);
      const byStart = (a: { start: number; key: unknown }, b: { start: number; key: unknown }) =>
        a.start - b.start || String(a.key).localeCompare(String(b.key));
      expect(restShape(windows)).toEqual((expected[rule] as { start: number; key: unknown }[]).sort(byStart));
    }

    // Each too-late sale is reported for its window(s) and readable by operators.
    const late = await get('/aggregates/sale_tumbling/late?limit=1000');
    expect(new Set((late.body as { late: { event_id: string }[] }).late.map((l) => l.event_id))).toEqual(
      new Set(tooLate.map((s) => s.id)),
    );
    const metrics = await metricsRegistry().metrics();
    expect(metrics).toMatch(/aggregator_events_total\{rule="sale_tumbling",outcome="late"\} 12/);
    expect(metrics).toMatch(/aggregator_events_total\{rule="sale_tumbling",outcome="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/aggregator_batch_seconds_count [1-9]/);
    expect(await promtoolProblems(metrics)).toBe('');
  });

  it('publishes each window version on `aggregates` exactly once, through the outbox and the relay', async () => {
    const { rows } = await backbone.sql.query<{
      rule: string;
      key: string;
      start_ms: string;
      version: number;
    }>("select rule, key, start_ms, version from aggregate_window where rule like 'sale_%'");
    await waitFor(
      'the relay carried every closed version',
      async () => {
        const closed = (await aggregatesStream(backbone.redis)).filter((e) => e.type === 'aggregate.closed');
        return closed.filter((e) => String(e.subject).startsWith('sale_')).length === rows.length;
      },
      30_000,
    );
    const events = (await aggregatesStream(backbone.redis)).filter((e) =>
      String(e.subject).startsWith('sale_'),
    );
    const versions = events.map((e) => `${e.subject}#${e.sequence}`);
    expect(new Set(versions).size).toBe(versions.length);
    // Per window: versions 1..final with no gap, the last one closed and equal to what REST serves.
    const byWindow = new Map<string, number[]>();
    for (const e of events)
      byWindow.set(String(e.subject), [...(byWindow.get(String(e.subject)) ?? []), e.sequence as number]);
    // Fixed windows: versions 1..final, none missing. A session that merged into another keeps the
    // versions it had under its old start, so only its last version is checked.
    for (const row of rows) {
      const subject = `${row.rule}:${row.key}@${new Date(Number(row.start_ms)).toISOString()}`;
      const seen = (byWindow.get(subject) ?? []).sort((a, b) => a - b);
      if (row.rule === 'sale_session') expect(seen.at(-1)).toBe(row.version);
      else expect(seen).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
    }
    expect(events.find((e) => e.type === 'aggregate.closed')?.data).toMatchObject({
      final: true,
      rule: expect.any(String),
    });
  });

  it('products per category over cdc.product equals select category, count(*) after inserts, updates and deletes', async () => {
    const { sql } = backbone;
    await sql.query(`insert into product (id, name, price, category, stock)
      select gen_random_uuid(), 'p' || g, (g % 7 + 1)::numeric, (array['tea','coffee','cake'])[g % 3 + 1], 1
      from generate_series(1, 60) g`);
    await sql.query("update product set category = 'cake' where category = 'tea' and price < 3");
    await sql.query("update product set price = price + 1 where category = 'coffee'");
    await sql.query("delete from product where category = 'cake' and price > 5");
    await sql.query("update product set category = null where name in ('p1', 'p2')");
    const oracle = async () =>
      (
        await sql.query<{ category: string | null; products: number; average_price: number }>(
          `select category, count(*)::int as products, round(avg(price), 9)::float8 as average_price
           from product group by category order by category nulls first`,
        )
      ).rows;
    const served = async () =>
      (
        (await get('/aggregates/products_per_category')).body as {
          windows: { key: [string | null]; values: { products: number; average_price: number } }[];
        }
      ).windows
        .map((w) => ({
          category: w.key[0],
          products: w.values.products,
          average_price: Number(w.values.average_price.toFixed(9)),
        }))
        .sort((a, b) => (a.category ?? '').localeCompare(b.category ?? ''));
    const expected = await oracle();
    await waitFor(
      'products per category caught up',
      async () => JSON.stringify(await served()) === JSON.stringify(expected),
      30_000,
    );
    expect(await served()).toEqual(expected);
    expect((await get('/aggregates/products_per_category?key=tea')).body).toMatchObject({
      windows: [{ key: ['tea'], window_end: null, final: false }],
    });
  });

  it('writes grouphello: hello rows as string_agg(world) per hop(1 s, 5 s), also as the output entity', async () => {
    await backbone.sql.query("insert into hello (world) values ('alpha'), ('beta'), ('gamma')");
    await waitFor(
      'grouphello rows',
      async () => (await backbone.sql.query('select 1 from grouphello')).rowCount === 5,
      30_000,
    );
    const { rows } = await backbone.sql.query<{ worlds: string; window_start: Date; window_end: Date }>(
      'select worlds, window_start, window_end from grouphello order by window_start',
    );
    expect(rows.map((r) => r.worlds)).toEqual(Array(5).fill('alpha,beta,gamma'));
    expect(rows.map((r) => r.window_end.getTime() - r.window_start.getTime())).toEqual(Array(5).fill(5_000));
    expect(rows.map((r) => r.window_start.getTime() - rows[0].window_start.getTime())).toEqual([
      0, 1000, 2000, 3000, 4000,
    ]);
    const served = (await get('/aggregates/grouphello')).body as {
      windows: { values: { worlds: string } }[];
    };
    expect(served.windows.map((w) => w.values.worlds)).toEqual(Array(5).fill('alpha,beta,gamma'));
  });

  it('dead-letters a malformed event with the reason, and the rule goes on', async () => {
    const publisher = new StreamPublisher(backbone.redis);
    const before = await backbone.redis.xlen(Streams.deadLetters);
    const now = Date.now();
    const bad = { ...saleEvent({ id: 'bad-amount', time: now, shop: 'north', cents: 1, word: 'ash' }) };
    bad.data = { shop: 'north', amount: 'twelve', word: 'ash' };
    await publisher.publish(Streams.entityEvents('sale'), bad);
    await publisher.publish(
      Streams.entityEvents('sale'),
      saleEvent({ id: 'good-after-bad', time: now, shop: 'north', cents: 100, word: 'ash' }),
    );
    await waitFor(
      'dead-lettered',
      async () => (await backbone.redis.xlen(Streams.deadLetters)) === before + 1,
      20_000,
    );
    const entries = await backbone.redis.xrange(Streams.deadLetters, '-', '+');
    expect(fieldMap(entries[entries.length - 1][1])).toMatchObject({
      id: 'bad-amount',
      dlq_stream: 'events.sale',
      dlq_group: 'aggregator',
      dlq_error: expect.stringMatching(/rule sale_\w+: measure total: amount is not a number: "twelve"/),
    });
    await waitFor(
      'the good one applied',
      async () =>
        ((await backbone.sql.query("select 1 from inbox where event_id = 'good-after-bad'")).rowCount ??
          0) === 1,
      20_000,
    );
    expect((await backbone.sql.query("select 1 from inbox where event_id = 'bad-amount'")).rowCount).toBe(0);
  });

  it('answers 404 naming an unknown rule and 400 naming an unknown or bad parameter', async () => {
    expect(await get('/aggregates/nope')).toMatchObject({
      status: 404,
      body: { error: 'unknown_rule', message: expect.stringContaining("'nope'") },
    });
    const unknown = await get('/aggregates/sale_tumbling?colour=red');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('colour');
    const bad = await get('/aggregates/sale_tumbling?from=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/from.*RFC 3339/);
    const rules = (await get('/aggregates')).body as { rules: { name: string }[] };
    expect(rules.rules.map((r) => r.name)).toEqual(
      expect.arrayContaining([...RULES, 'products_per_category', 'grouphello']),
    );
    const openapi = (await get('/openapi.json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual([
      '/aggregates',
      '/aggregates/{rule}',
      '/aggregates/{rule}/late',
    ]);
  });
});
