import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EntityDefinitionError, loadEntities, parseEntity } from './load-entities';
import { isManagedCheck } from './check-constraints';
import { entityDefinitionJsonSchemaText } from './definition';

const repoRoot = path.resolve(__dirname, '../../..');

function problemsOf(text: string, file = 'entities/product.yaml'): string[] {
  const result = parseEntity(text, file);
  if (!('problems' in result)) throw new Error('expected problems');
  return result.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
}

describe('entity definitions', () => {
  it('loads the shipped product and hello definitions', () => {
    const catalog = loadEntities(path.join(repoRoot, 'entities'));
    const product = catalog.get('product');
    expect(product.columns.map((c) => `${c.name} ${c.sqlType}${c.notNull ? ' not null' : ''}`)).toEqual([
      'id uuid not null',
      'name text not null',
      'price numeric(12,2) not null',
      'category text',
      'stock integer not null',
      'version integer not null',
      'created_at timestamp with time zone not null',
      'updated_at timestamp with time zone not null',
    ]);
    expect(product.indexes).toEqual([
      { name: 'product_category_idx', columns: ['category'], method: 'btree', unique: false },
    ]);
    expect(product.queries.get('by_category')?.text).toContain('where category = ($1::text)');
    expect(catalog.get('hello').fields.get('world')).toEqual({ type: 'text' });
  });

  it('derives a named CHECK per min/max, length and enum rule (not pattern); a changed rule is a new name', () => {
    const product = loadEntities(path.join(repoRoot, 'entities')).get('product');
    expect(product.checks.map((c) => [c.name.replace(/[0-9a-f]{8}$/, '#'), c.expression, c.message])).toEqual(
      [
        ['product_name_min_length_#', 'char_length("name") >= 1', 'must be at least 1 characters'],
        ['product_name_max_length_#', 'char_length("name") <= 200', 'must be at most 200 characters'],
        ['product_price_min_#', '"price" >= 0', 'must be >= 0'],
        ['product_category_max_length_#', 'char_length("category") <= 100', 'must be at most 100 characters'],
        ['product_stock_min_#', '"stock" >= 0', 'must be >= 0'],
      ],
    );
    expect(product.checks.every((c) => isManagedCheck(c.name))).toBe(true);
    expect(isManagedCheck('product_price_check')).toBe(false);

    const model = (yaml: string) => {
      const result = parseEntity(yaml, 'entities/a_rather_long_entity_name_for_a_table_of_things.yaml');
      if (!('model' in result)) throw new Error(JSON.stringify(result.problems));
      return result.model;
    };
    const entity = (max: number, values: string) =>
      model(`name: a_rather_long_entity_name_for_a_table_of_things
fields:
  an_equally_long_field_name_for_the_level_of_it: { type: integer, max: ${max} }
  kind: { type: enum, values: [${values}] }
  code: { type: text, pattern: '[A-Z]+' }
`).checks.map((c) => c.name);
    const [level, kind] = entity(10, "a, 'b'");
    expect(level).toHaveLength(63);
    expect(level).toMatch(/^a_rather_long_entity_name_for_a_table_of_things_an_max_[0-9a-f]{8}$/);
    expect(entity(10, "a, 'b'")).toEqual([level, kind]);
    expect(entity(11, "a, 'b'")[0]).not.toBe(level);
    expect(entity(10, "a, 'b', c")[1]).not.toBe(kind);
    expect(
      model(`name: a_rather_long_entity_name_for_a_table_of_things
fields:
  kind: { type: enum, values: [a, "it's"] }
`).checks[0].expression,
    ).toBe(`"kind" IN ('a', 'it''s')`);
  });

  it('reports a wrong type with the file and the path', () => {
    const text = 'name: product\nfields:\n  price:\n    type: decimal\n    min: zero\n';
    expect(problemsOf(text)).toEqual([
      'entities/product.yaml: fields.price.min: expected number, received string',
    ]);
  });

  it('reports every problem of a file: unknown type, unknown key, bad index, undeclared parameter', () => {
    const text = [
      'name: product',
      'colour: red',
      'fields:',
      '  name: { type: txt }',
      '  order: { type: integer }',
      '  stock: { type: integer, min: 5, max: 1 }',
      'indexes:',
      '  - fields: [nope]',
      'queries:',
      '  cheap:',
      '    sql: select * from product where price < :max',
    ].join('\n');
    // Structure first: cross-field checks run once every value has the right shape.
    expect(problemsOf(text)).toEqual([
      'entities/product.yaml: fields.name.type: expected one of uuid, text, integer, bigint, decimal, boolean, timestamp, date, jsonb, enum',
      'entities/product.yaml: : Unrecognized key: "colour"',
    ]);
    expect(problemsOf('name: product\nfields:\n  order: { type: integer }\n')).toEqual([
      "entities/product.yaml: fields.order: 'order' is a word of the list API; choose another name",
    ]);
    expect(
      problemsOf(
        'name: product\nfields:\n  stock: { type: integer, min: 5, max: 1 }\nindexes:\n  - fields: [nope]\nqueries:\n  cheap:\n    sql: select * from product where price < :max\n',
      ),
    ).toEqual([
      'entities/product.yaml: fields.stock.min: must not be greater than max',
      "entities/product.yaml: indexes[0].fields[0]: unknown field 'nope'",
      'entities/product.yaml: queries.cheap.sql: uses :max, which is not in params',
    ]);
  });

  it('reports YAML syntax errors with line and column, and a name that is not the file name', () => {
    expect(problemsOf('name: product\nfields: {\n')[0]).toMatch(
      /^entities\/product\.yaml: line \d+, column \d+: /,
    );
    expect(problemsOf('name: hello\nfields: {}\n')).toEqual([
      "entities/product.yaml: name: must be 'product', the file name",
    ]);
  });

  it('refuses named queries that are not a single SELECT', () => {
    const text = 'name: product\nfields: {}\nqueries:\n  wipe:\n    sql: delete from product; select 1\n';
    expect(problemsOf(text)).toEqual([
      'entities/product.yaml: queries.wipe.sql: must be a single statement (no ;)',
      'entities/product.yaml: queries.wipe.sql: must be a SELECT (or WITH … SELECT)',
    ]);
  });

  it('loadEntities throws one error listing the problems of every file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'entities-'));
    writeFileSync(path.join(dir, 'a.yaml'), 'name: a\nfields:\n  x: { type: integer, default: 1.5 }\n');
    writeFileSync(
      path.join(dir, 'b.yaml'),
      'name: b\nfields:\n  y: { type: enum, values: [p, q], default: r }\n',
    );
    let error: unknown;
    try {
      loadEntities(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EntityDefinitionError);
    const message = (error as Error).message;
    expect(message).toMatch(/a\.yaml: fields\.x\.default: expected int/);
    expect(message).toMatch(/b\.yaml: fields\.y\.default: must be one of p, q/);
  });

  it('ships entities/entity.schema.json generated from the zod schema (regenerate: npm run docs:definitions)', () => {
    const shipped = readFileSync(path.join(repoRoot, 'entities/entity.schema.json'), 'utf8');
    // Compared as JSON: the file is prettier-formatted.
    expect(JSON.parse(shipped)).toEqual(JSON.parse(entityDefinitionJsonSchemaText()));
  });
});
