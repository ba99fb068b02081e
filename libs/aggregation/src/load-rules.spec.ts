import { readFileSync } from 'node:fs';
import path from 'node:path';
import { aggregationRulesJsonSchemaText } from './rule';
import { AggregationRuleError, loadAggregationRules, parseRulesFile } from './load-rules';

const repoRoot = path.resolve(__dirname, '../../..');

function problemsOf(text: string, file = 'aggregations/shop.yaml'): string[] {
  const result = parseRulesFile(text, file);
  if (!('problems' in result)) throw new Error('expected problems');
  return result.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
}

const rule = (extra: string) => `rules:
  - name: shop
    source: orders
    types: [order.created]
    window: { type: tumbling, size: 1m }
    measures: { orders: { fn: count } }
${extra}`;

describe('aggregation rules', () => {
  it('loads the shipped rules with durations in milliseconds', () => {
    const rules = loadAggregationRules(path.join(repoRoot, 'aggregations'));
    expect(rules.map((r) => [r.name, r.source, r.window, r.latenessMs])).toEqual([
      ['orders_per_minute', 'orders', { type: 'tumbling', sizeMs: 60_000 }, 10_000],
      ['revenue_5m', 'orders', { type: 'tumbling', sizeMs: 300_000 }, 30_000],
      ['delivery_time_5m', 'orders', { type: 'tumbling', sizeMs: 300_000 }, 30_000],
    ]);
    expect([...rules[2].types]).toEqual(['order.created', 'order.delivered']);
  });

  it('names file and path of every problem', () => {
    expect(
      problemsOf(`rules:
  - name: Shop
    source: nowhere
    types: [order.created]
    window: { type: hopping, size: 1m, slide: 2m }
    measures: { total: { fn: median, field: total } }
    lateness: soon
`),
    ).toEqual([
      'aggregations/shop.yaml: rules[0].name: must be lower_snake_case (a-z, 0-9, _), starting with a letter',
      'aggregations/shop.yaml: rules[0].source: must be orders, couriers, kitchen, events.<entity> or cdc.<table>',
      expect.stringMatching(
        /^aggregations\/shop.yaml: rules\[0\].measures.total.fn: expected one of "count"/,
      ),
      'aggregations/shop.yaml: rules[0].lateness: must be a duration like 500ms, 5s, 1m, 2h',
    ]);
    expect(
      problemsOf(
        rule('    window: { type: hopping, size: 1m, slide: 2m }').replace(
          / {4}window: \{ type: tumbling.*\n/,
          '',
        ),
      ),
    ).toEqual([
      'aggregations/shop.yaml: rules[0].window.slide: must not be longer than size (events between windows would count nowhere)',
    ]);
    expect(problemsOf(rule('    bogus: 1'))).toEqual([
      'aggregations/shop.yaml: rules[0]: Unrecognized key: "bogus"',
    ]);
    expect(problemsOf('rules: [\n')[0]).toMatch(/^aggregations\/shop.yaml: line \d+, column \d+: /);
  });

  it('checks what the schema cannot: fields of measures, sessions over row changes, types', () => {
    expect(
      problemsOf(`rules:
  - name: shop
    source: cdc.product
    window: { type: session, gap: 1m }
    measures: { price: { fn: sum }, n: { fn: count, separator: ';' } }
    where: [{ field: price, op: in, value: 3 }]
`),
    ).toEqual([
      'aggregations/shop.yaml: rules[0].window.type: session windows cannot retract row changes; use tumbling, hopping or global',
      'aggregations/shop.yaml: rules[0].measures.price.field: is required for sum',
      'aggregations/shop.yaml: rules[0].measures.n.separator: applies to string_agg only',
      'aggregations/shop.yaml: rules[0].where[0].value: must be a list for in',
    ]);
    expect(problemsOf(rule('').replace('    types: [order.created]\n', ''))).toEqual([
      'aggregations/shop.yaml: rules[0].types: is required for a domain stream (which event types count)',
    ]);
  });

  it('refuses two rules of one name, across files and entity definitions', () => {
    const load = () =>
      loadAggregationRules(path.join(repoRoot, 'aggregations'), [
        {
          entity: 'product',
          file: 'entities/product.yaml',
          rules: [{ name: 'revenue_5m', window: { type: 'global' }, measures: { n: { fn: 'count' } } }],
        },
      ]);
    expect(load).toThrow(AggregationRuleError);
    expect(load).toThrow(
      "entities/product.yaml: name: 'revenue_5m' is also declared in aggregations/orders.yaml",
    );
  });

  it('defaults an entity rule to the entity table, with row-change types', () => {
    const [compiled] = loadAggregationRules('/nonexistent', [
      {
        entity: 'product',
        file: 'entities/product.yaml',
        rules: [{ name: 'n', window: { type: 'global' }, measures: { n: { fn: 'count' } } }],
      },
    ]);
    expect(compiled.source).toBe('cdc.product');
    expect(compiled.retracts).toBe(true);
    expect([...compiled.types]).toEqual([
      'product.inserted',
      'product.updated',
      'product.deleted',
      'product.truncated',
    ]);
  });

  it('ships aggregations/aggregation.schema.json generated from the zod schema (regenerate: npm run docs:definitions)', () => {
    const shipped = readFileSync(path.join(repoRoot, 'aggregations/aggregation.schema.json'), 'utf8');
    // Compared as JSON: the file is prettier-formatted.
    expect(JSON.parse(shipped)).toEqual(JSON.parse(aggregationRulesJsonSchemaText()));
  });
});
