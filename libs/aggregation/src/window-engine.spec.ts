import fc from 'fast-check';
import { CompiledRule, compileRule } from './compiled-rule';
import type { SourceEvent } from './contributions';
import { MemoryAggregator } from './memory-aggregator';
import type { AggregationRuleDefinition } from './rule';

// The oracle: what a batch SQL query over the same rows answers, computed naively and independently of
// the engine (no windowsFor, no accumulators), compared with what the engine answers for the same
// events delivered in order, shuffled, duplicated and in random batches.

function compile(definition: AggregationRuleDefinition, entity?: string): CompiledRule {
  const result = compileRule(definition, 'spec.yaml', 'rules[0]', entity);
  if ('problems' in result) throw new Error(JSON.stringify(result.problems));
  return result.rule;
}

const MEASURES = {
  n: { fn: 'count' },
  total: { fn: 'sum', field: 'amount' },
  mean: { fn: 'avg', field: 'amount' },
  low: { fn: 'min', field: 'amount' },
  high: { fn: 'max', field: 'amount' },
  words: { fn: 'count_distinct', field: 'word' },
  text: { fn: 'string_agg', field: 'word', separator: '|' },
} as const;

const WINDOWS = {
  tumbling: { type: 'tumbling', size: '3s' },
  hopping: { type: 'hopping', size: '5s', slide: '1s' },
  session: { type: 'session', gap: '1500ms' },
} as const;

function ruleFor(kind: keyof typeof WINDOWS, lateness: string): CompiledRule {
  return compile({
    name: `by_${kind}`,
    source: 'orders',
    types: ['sale'],
    window: WINDOWS[kind],
    groupBy: ['shop'],
    measures: MEASURES,
    lateness,
  });
}

interface Sale {
  id: string;
  time: number;
  shop: string;
  cents: number;
  word: string;
}

const asEvent = (s: Sale): SourceEvent => ({
  id: s.id,
  type: 'sale',
  time: s.time,
  data: { shop: s.shop, amount: (s.cents / 100).toFixed(2), word: s.word },
});

interface Expected {
  key: string;
  start: number;
  end: number;
  values: Record<string, unknown>;
}

function oracleWindows(kind: keyof typeof WINDOWS, sales: readonly Sale[]): Map<string, Sale[]> {
  const groups = new Map<string, Sale[]>();
  const add = (key: string, start: number, end: number, sale: Sale) => {
    const id = `${JSON.stringify([key])}|${start}|${end}`;
    groups.set(id, [...(groups.get(id) ?? []), sale]);
  };
  if (kind === 'session') {
    for (const shop of new Set(sales.map((s) => s.shop))) {
      const mine = sales.filter((s) => s.shop === shop).sort((a, b) => a.time - b.time);
      let session: Sale[] = [];
      const flush = () =>
        session.forEach((s) => add(shop, session[0].time, session[session.length - 1].time + 1500, s));
      for (const sale of mine) {
        if (session.length > 0 && sale.time - session[session.length - 1].time > 1500) {
          flush();
          session = [];
        }
        session.push(sale);
      }
      if (session.length > 0) flush();
    }
    return groups;
  }
  const [size, slide] = kind === 'tumbling' ? [3000, 3000] : [5000, 1000];
  for (const sale of sales) {
    for (let start = -size; start <= sale.time; start += slide) {
      if (sale.time >= start && sale.time < start + size) add(sale.shop, start, start + size, sale);
    }
  }
  return groups;
}

function oracle(kind: keyof typeof WINDOWS, sales: readonly Sale[]): Expected[] {
  return [...oracleWindows(kind, sales).entries()]
    .map(([id, rows]) => {
      const [key, start, end] = id.split('|');
      const cents = rows.map((r) => r.cents);
      const sum = cents.reduce((a, b) => a + b, 0);
      const ordered = [...rows].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
      return {
        key,
        start: Number(start),
        end: Number(end),
        values: {
          n: rows.length,
          total: (sum / 100).toFixed(2),
          mean: sum / 100 / rows.length,
          low: (Math.min(...cents) / 100).toFixed(2),
          high: (Math.max(...cents) / 100).toFixed(2),
          words: new Set(rows.map((r) => r.word)).size,
          text: ordered.map((r) => r.word).join('|'),
        },
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));
}

function engineResults(sut: MemoryAggregator, rule: CompiledRule): Expected[] {
  return sut
    .results(rule.name)
    .map((r) => ({
      key: JSON.stringify(r.key),
      start: Date.parse(r.window_start),
      end: Date.parse(r.window_end as string),
      values: r.values,
    }))
    .map((r) => ({ ...r, values: { ...r.values, mean: Number((r.values['mean'] as number).toFixed(9)) } }));
}

const roundMeans = (rows: Expected[]) =>
  rows.map((r) => ({ ...r, values: { ...r.values, mean: Number((r.values['mean'] as number).toFixed(9)) } }));

const sales = fc.uniqueArray(
  fc.record({
    id: fc.uuid(),
    time: fc.integer({ min: 0, max: 200 }).map((t) => t * 100), // coarse, so ties are common
    shop: fc.constantFrom('north', 'south', 'east'),
    cents: fc.integer({ min: 0, max: 100_000 }),
    word: fc.constantFrom('a', 'b', 'c', 'd'),
  }),
  { selector: (s) => s.id, minLength: 1, maxLength: 60 },
);

/** The sales as delivered: shuffled, some twice, cut into batches. */
const delivery = (input: Sale[]) =>
  fc.tuple(
    fc.shuffledSubarray(input, { minLength: input.length, maxLength: input.length }),
    fc.subarray(input),
    fc.integer({ min: 1, max: 10 }),
  );

function deliver(sut: MemoryAggregator, order: Sale[], again: Sale[], batchSize: number): void {
  const stream = [...order, ...again];
  for (let i = 0; i < stream.length; i += batchSize)
    sut.process('orders', stream.slice(i, i + batchSize).map(asEvent));
}

describe('window engine against a batch oracle', () => {
  for (const kind of Object.keys(WINDOWS) as (keyof typeof WINDOWS)[]) {
    it(`${kind}: every measure equals the oracle for in-order, shuffled, duplicated input in any batches`, () => {
      const rule = ruleFor(kind, '1d');
      fc.assert(
        fc.property(
          sales.chain((input) => fc.tuple(fc.constant(input), delivery(input))),
          ([input, [order, again, size]]) => {
            const inOrder = new MemoryAggregator([rule]);
            deliver(
              inOrder,
              [...input].sort((a, b) => a.time - b.time),
              [],
              1000,
            );
            const shuffled = new MemoryAggregator([rule]);
            deliver(shuffled, order, again, size);
            const expected = roundMeans(oracle(kind, input));
            expect(engineResults(inOrder, rule)).toEqual(expected);
            expect(engineResults(shuffled, rule)).toEqual(expected);
            expect(shuffled.late).toEqual([]);
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`${kind}: an event past the allowed lateness is reported for its window, never counted, never lost`, () => {
      const rule = ruleFor(kind, '2s');
      fc.assert(
        fc.property(
          sales.chain((input) => fc.tuple(fc.constant(input), delivery(input))),
          ([input, [order, again, size]]) => {
            const sut = new MemoryAggregator([rule]);
            deliver(sut, order, again, size);
            const lateIds = new Set(sut.late.map((l) => l.eventId));
            if (kind === 'hopping') {
              // Late per window: the oracle counts, in each window, the sales not reported late for it.
              const late = new Set(sut.late.map((l) => `${l.eventId}|${l.start}`));
              const counted = oracleWindows(kind, input);
              for (const [id, rows] of counted) {
                const start = Number(id.split('|')[1]);
                counted.set(
                  id,
                  rows.filter((r) => !late.has(`${r.id}|${start}`)),
                );
              }
              const actual = new Map(
                engineResults(sut, rule).map((r) => [`${r.key}|${r.start}`, r.values['n']]),
              );
              for (const [id, rows] of counted) {
                const [key, start] = id.split('|');
                if (rows.length > 0) expect(actual.get(`${key}|${start}`)).toBe(rows.length);
              }
              return;
            }
            // Tumbling and session: a late sale is late for its one window; the rest equal the oracle.
            const onTime = input.filter((s) => !lateIds.has(s.id));
            if (kind === 'tumbling')
              expect(engineResults(sut, rule)).toEqual(roundMeans(oracle(kind, onTime)));
            const counted = engineResults(sut, rule).reduce((n, r) => n + (r.values['n'] as number), 0);
            expect(counted + lateIds.size).toBe(input.length);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('closes a window once the watermark passes end + lateness, and reports what comes after', () => {
    const rule = ruleFor('tumbling', '1s');
    const sut = new MemoryAggregator([rule]);
    const sale = (id: string, time: number): Sale => ({ id, time, shop: 'north', cents: 100, word: 'a' });
    sut.process('orders', [sale('1', 500), sale('2', 2_900)].map(asEvent));
    sut.process('orders', [sale('3', 3_500)].map(asEvent)); // watermark 3 500: [0, 3000) still open
    sut.process('orders', [sale('4', 1_000)].map(asEvent)); // within lateness: counted
    expect(sut.results(rule.name)[0]).toMatchObject({ final: false, version: 2, values: { n: 3 } });
    sut.process('orders', [sale('5', 4_000)].map(asEvent)); // watermark 4 000 ≥ 3 000 + 1 000
    expect(sut.results(rule.name)[0]).toMatchObject({ final: true, version: 3, values: { n: 3 } });
    sut.process('orders', [sale('6', 2_000)].map(asEvent));
    expect(sut.late.map((l) => [l.eventId, l.start, l.end, l.watermark])).toEqual([['6', 0, 3000, 4000]]);
    expect(sut.results(rule.name)[0]).toMatchObject({ version: 3, values: { n: 3 } });
    const emitted = sut.emitted.filter((e) => e.window_start === new Date(0).toISOString());
    expect(emitted.map((e) => [e.version, e.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });
});

describe('row changes retract', () => {
  const rule = compile(
    {
      name: 'per_category',
      window: { type: 'global' },
      groupBy: ['category'],
      measures: {
        products: { fn: 'count' },
        value: { fn: 'sum', field: 'price' },
        cheapest: { fn: 'min', field: 'price' },
      },
      where: [{ field: 'active', op: 'eq', value: true }],
    },
    'product',
  );

  interface Op {
    row: number;
    kind: 'inserted' | 'updated' | 'deleted';
    after?: { category: string; price: string; active: boolean };
  }

  const ops = fc.array(
    fc.record({
      row: fc.integer({ min: 1, max: 6 }),
      category: fc.constantFrom('tea', 'coffee', 'cake'),
      price: fc.integer({ min: 1, max: 999 }),
      active: fc.boolean(),
      remove: fc.boolean(),
    }),
    { maxLength: 50 },
  );

  it('equals select category, count(*), sum(price), min(price) over the current rows, in any delivery order', () => {
    fc.assert(
      fc.property(
        ops.chain((raw) => {
          // A valid history: insert a missing row, update or delete an existing one.
          const live = new Set<number>();
          const history: Op[] = raw.map((r) => {
            const after = { category: r.category, price: (r.price / 10).toFixed(1), active: r.active };
            if (!live.has(r.row)) {
              live.add(r.row);
              return { row: r.row, kind: 'inserted', after };
            }
            if (r.remove) {
              live.delete(r.row);
              return { row: r.row, kind: 'deleted' };
            }
            return { row: r.row, kind: 'updated', after };
          });
          const events: SourceEvent[] = history.map((op, i) => ({
            id: `e${String(i).padStart(4, '0')}`,
            type: `product.${op.kind}`,
            time: 1_000 + i,
            subject: String(op.row),
            data: { after: op.after ?? null, position: String(i).padStart(8, '0') },
          }));
          return fc.tuple(
            fc.constant(history),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            fc.subarray(events),
          );
        }),
        ([history, shuffled, again]) => {
          const sut = new MemoryAggregator([rule]);
          [...shuffled, ...again].forEach((e) => sut.process('cdc.product', [e]));
          const table = new Map<number, Op['after']>();
          for (const op of history) {
            if (op.kind === 'deleted') table.delete(op.row);
            else table.set(op.row, op.after);
          }
          const expected = new Map<string, { products: number; cents: number; cheapest: number }>();
          for (const row of table.values()) {
            if (!row?.active) continue;
            const e = expected.get(row.category) ?? { products: 0, cents: 0, cheapest: Infinity };
            const cents = Math.round(Number(row.price) * 10);
            expected.set(row.category, {
              products: e.products + 1,
              cents: e.cents + cents,
              cheapest: Math.min(e.cheapest, cents),
            });
          }
          const actual = sut.results(rule.name).filter((r) => r.events > 0);
          expect(Object.fromEntries(actual.map((r) => [r.key[0], r.values]))).toEqual(
            Object.fromEntries(
              [...expected].map(([category, e]) => [
                category,
                {
                  products: e.products,
                  value: (e.cents / 10).toFixed(1),
                  cheapest: (e.cheapest / 10).toFixed(1),
                },
              ]),
            ),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('retracts every row on truncate', () => {
    const sut = new MemoryAggregator([rule]);
    const row = (id: string, i: number): SourceEvent => ({
      id: `e${i}`,
      type: 'product.inserted',
      time: i,
      subject: id,
      data: { after: { category: 'tea', price: '1.0', active: true }, position: `0${i}` },
    });
    sut.process('cdc.product', [row('a', 1), row('b', 2)]);
    expect(sut.results(rule.name)[0].values['products']).toBe(2);
    sut.process('cdc.product', [{ id: 'e3', type: 'product.truncated', time: 3, data: { position: '03' } }]);
    expect(sut.results(rule.name)[0]).toMatchObject({
      events: 0,
      values: { products: 0, value: null, cheapest: null },
    });
  });
});

describe('spans', () => {
  const rule = compile({
    name: 'delivery',
    source: 'orders',
    span: { from: 'order.created', to: 'order.delivered' },
    window: { type: 'tumbling', size: '10s' },
    measures: { average_s: { fn: 'avg', field: 'duration_s' }, deliveries: { fn: 'count' } },
    lateness: '1d',
  });

  it('pairs created and delivered of one order in either order, once, timed at delivery', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            order: fc.uuid(),
            created: fc.integer({ min: 0, max: 30_000 }),
            takes: fc.integer({ min: 1, max: 20_000 }),
          }),
          {
            selector: (o) => o.order,
            maxLength: 30,
          },
        ),
        fc.infiniteStream(fc.integer({ min: 0, max: 1_000 })),
        (orders, noise) => {
          const events: SourceEvent[] = orders.flatMap((o) => [
            { id: `${o.order}-c`, type: 'order.created', time: o.created, subject: o.order, data: {} },
            {
              id: `${o.order}-d`,
              type: 'order.delivered',
              time: o.created + o.takes,
              subject: o.order,
              data: {},
            },
          ]);
          const shuffled = events
            .map((e) => [noise.next().value as number, e] as const)
            .sort((a, b) => a[0] - b[0]);
          const sut = new MemoryAggregator([rule]);
          shuffled.forEach(([, e]) => sut.process('orders', [e]));
          const expected = new Map<number, number[]>();
          for (const o of orders) {
            const start = Math.floor((o.created + o.takes) / 10_000) * 10_000;
            expected.set(start, [...(expected.get(start) ?? []), o.takes / 1000]);
          }
          const actual = sut
            .results(rule.name)
            .map((r) => [
              Date.parse(r.window_start),
              r.values['deliveries'],
              Number((r.values['average_s'] as number).toFixed(6)),
            ]);
          expect(actual).toEqual(
            [...expected]
              .sort((a, b) => a[0] - b[0])
              .map(([start, d]) => [
                start,
                d.length,
                Number((d.reduce((a, b) => a + b, 0) / d.length).toFixed(6)),
              ]),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
