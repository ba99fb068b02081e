import { parseEntity } from './load-entities';
import { EntityModel, validateWrite } from './entity-model';
import { buildListStatement, splitList } from './list-query';
import { EntityError } from './errors';

const definition = `
name: product
fields:
  name: { type: text, required: true, maxLength: 10 }
  price: { type: decimal, required: true, precision: 12, scale: 2, min: 0 }
  category: { type: text }
  stock: { type: integer, required: true, min: 0, default: 0 }
  active: { type: boolean }
  tags: { type: jsonb }
  kind: { type: enum, values: [a, b] }
`;

function model(): EntityModel {
  const result = parseEntity(definition, 'product.yaml');
  if (!('model' in result)) throw new Error(JSON.stringify(result.problems));
  return result.model;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof EntityError) return error.problems.map((p) => `${p.field}: ${p.message}`);
    throw error;
  }
  throw new Error('expected an EntityError');
}

describe('list statements', () => {
  it('turns filters into SQL over quoted identifiers with every value a parameter', () => {
    const statement = buildListStatement(model(), {
      price: ['gte.1.5', 'lt.10'],
      name: 'ilike.*wid*',
      category: 'in.(tools,"a,b")',
      active: 'is.true',
      kind: 'not.eq.a',
      order: 'price.desc.nullslast,name',
      select: 'id,name',
      limit: '5',
      offset: '10',
    });
    expect(statement.text).toBe(
      'SELECT "id", "name" FROM "product" WHERE "price" >= $1::numeric AND "price" < $2::numeric AND "name" ILIKE $3::text' +
        ' AND "category" = ANY($4::text[]) AND "active" IS TRUE AND NOT ("kind" = $5::text)' +
        ' ORDER BY "price" DESC NULLS LAST, "name" ASC, "id" ASC LIMIT $6::integer OFFSET $7::integer',
    );
    expect(statement.values).toEqual(['1.5', '10', '%wid%', ['tools', 'a,b'], 'a', 5, 10]);
  });

  it('caps the limit', () => {
    expect(buildListStatement(model(), { limit: '100000' }, { defaultLimit: 10, maxLimit: 50 }).limit).toBe(
      50,
    );
    expect(buildListStatement(model(), {}, { defaultLimit: 10, maxLimit: 50 }).limit).toBe(10);
  });

  it('names every bad filter, order, select and limit', () => {
    expect(
      problems(() =>
        buildListStatement(model(), {
          price: 'gt.cheap',
          stock: 'between.1',
          active: 'gt.true',
          'name;drop table product': 'eq.x',
          order: 'price.sideways,nope',
          select: 'id,"name"',
          limit: '-1',
        }),
      ),
    ).toEqual([
      'price: expected a decimal number such as 12.50',
      "stock: unknown operator 'between' (one of eq, neq, gt, gte, lt, lte, like, ilike, in, is)",
      'active: gt is not available for boolean fields',
      'name;drop table product: unknown field of product',
      'select: unknown field: "name"',
      "order: 'sideways' is not asc, desc, nullsfirst or nullslast",
      "order: unknown field 'nope'",
      'limit: expected a non-negative integer',
    ]);
  });

  it('splits in-lists with quotes', () => {
    expect(splitList('a, b ,"c,d","e\\"f"')).toEqual(['a', 'b', 'c,d', 'e"f']);
  });
});

describe('write validation', () => {
  it('accepts a valid create, applying nothing the client did not send', () => {
    const values = validateWrite(model(), { name: 'Widget', price: 12.5, tags: ['x'] }, 'create');
    expect([...values]).toEqual([
      ['name', 'Widget'],
      ['price', '12.5'],
      ['tags', '["x"]'],
    ]);
  });

  it('names each bad field of a create', () => {
    expect(
      problems(() =>
        validateWrite(
          model(),
          { name: 'far too long a name', price: '-1', stock: 1.5, colour: 'red', version: 2 },
          'create',
        ),
      ),
    ).toEqual([
      'version: is read-only',
      'name: must be at most 10 characters',
      'price: must be >= 0',
      'stock: expected an integer',
      'colour: unknown field',
    ]);
    expect(problems(() => validateWrite(model(), { price: '1.234' }, 'create'))).toEqual([
      'name: is required',
      'price: at most 2 digits after the point',
    ]);
  });

  it('allows a partial patch but not nulling a required field or changing the id', () => {
    expect([...validateWrite(model(), { stock: 3 }, 'patch')]).toEqual([['stock', 3]]);
    expect(problems(() => validateWrite(model(), { name: null, id: 'x' }, 'patch'))).toEqual([
      'id: is read-only',
      'name: expected string, received null',
    ]);
    expect(problems(() => validateWrite(model(), {}, 'patch'))).toEqual(['body: names no field to change']);
    expect(problems(() => validateWrite(model(), [], 'patch'))).toEqual(['body: expected a JSON object']);
  });
});
