import { parseEntity } from './load-entities';
import { EntityModel } from './entity-model';
import { validateWrite } from './request-validation';
import { buildListStatement, encodeCursor, nextPageLink } from './list-query';
import { splitList } from './query-syntax';
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
      'SELECT "id", "name", ARRAY["price"::text, "name"::text, "id"::text]::text AS "_cursor" FROM (' +
        'SELECT * FROM "product" WHERE "price" >= $1::numeric AND "price" < $2::numeric AND "name" ILIKE $3::text' +
        ' AND "category" = ANY($4::text[]) AND "active" IS TRUE AND NOT ("kind" = $5::text)' +
        ' ORDER BY "price" DESC NULLS LAST, "name" ASC, "id" ASC LIMIT $6::integer OFFSET $7::integer' +
        ') AS page ORDER BY "price" DESC NULLS LAST, "name" ASC, "id" ASC',
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
          select: 'id,"nom",maker(*),price::text',
          limit: '-1',
        }),
      ),
    ).toEqual([
      'price: expected a decimal number such as 12.50',
      "stock: unknown operator 'between' (one of eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, in, is, isdistinct, cs, cd, fts, plfts, phfts, wfts)",
      'active: gt is not available for boolean fields',
      'name;drop table product: unknown field of product',
      'select: unknown field: nom',
      "select: 'maker(*)': embedding, casts and JSON paths are not supported",
      "select: 'price::text': embedding, casts and JSON paths are not supported",
      "order: 'sideways' is not asc, desc, nullsfirst or nullslast",
      "order: unknown field 'nope'",
      'limit: expected a non-negative integer',
    ]);
  });

  it('pages with a cursor after the sort keys of the last row, NULLs placed as ORDER BY places them', () => {
    const order = 'category.desc.nullslast,price';
    const first = buildListStatement(model(), { order, stock: 'gt.0', offset: '5' });
    const cursor = encodeCursor(first, ['tools', '9.99', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']);
    const next = buildListStatement(model(), { order, stock: 'gt.0', cursor });
    expect(next.afterCursor).toBe(true);
    expect(next.text).toBe(
      'SELECT *, ARRAY["category"::text, "price"::text, "id"::text]::text AS "_cursor" FROM (SELECT * FROM "product"' +
        ' WHERE "stock" > $1::integer AND (("category" < $2::text OR "category" IS NULL)' +
        ' OR ("category" = $2::text AND ("price" > $3::numeric OR ("price" = $3::numeric AND "id" > $4::uuid))))' +
        ' ORDER BY "category" DESC NULLS LAST, "price" ASC, "id" ASC LIMIT $5::integer OFFSET $6::integer' +
        ') AS page ORDER BY "category" DESC NULLS LAST, "price" ASC, "id" ASC',
    );
    expect(next.values).toEqual([0, 'tools', '9.99', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d', 100, 0]);

    // After a NULL: with NULLs last nothing but the other NULLs can follow.
    const afterNull = buildListStatement(model(), {
      order,
      cursor: encodeCursor(first, [null, '9.99', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']),
    });
    expect(afterNull.text).toContain(
      'WHERE "category" IS NULL AND ("price" > $1::numeric OR ("price" = $1::numeric AND "id" > $2::uuid))',
    );
    // With NULLs first every non-NULL follows them.
    const nullsFirst = buildListStatement(model(), { order: 'category.asc.nullsfirst' });
    expect(
      buildListStatement(model(), {
        order: 'category.asc.nullsfirst',
        cursor: encodeCursor(nullsFirst, [null, '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']),
      }).text,
    ).toContain('WHERE ("category" IS NOT NULL OR ("category" IS NULL AND "id" > $1::uuid))');
    // Descending puts NULLs first by default: after a value only smaller values follow.
    const desc = buildListStatement(model(), { order: 'category.desc' });
    expect(
      buildListStatement(model(), {
        order: 'category.desc',
        cursor: encodeCursor(desc, ['m', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']),
      }).text,
    ).toContain('WHERE ("category" < $1::text OR ("category" = $1::text AND "id" > $2::uuid))');
  });

  it('compares a row value where every key runs one way over NOT NULL columns (index-friendly)', () => {
    const byStock = buildListStatement(model(), { order: 'stock,name' });
    expect(
      buildListStatement(model(), { order: 'stock,name', cursor: encodeCursor(byStock, ['3', 'b', 'x']) })
        .text,
    ).toContain('WHERE ("stock", "name", "id") > ($1::integer, $2::text, $3::uuid) ORDER BY');
    // The primary key already makes the order total: it is not appended again.
    const byId = buildListStatement(model(), { order: 'id.desc' });
    expect(byId.text).toContain(
      'ORDER BY "id" DESC LIMIT $1::integer OFFSET $2::integer) AS page ORDER BY "id" DESC',
    );
    expect(
      buildListStatement(model(), {
        order: 'id.desc',
        cursor: encodeCursor(byId, ['0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']),
      }).text,
    ).toContain('WHERE "id" < $1::uuid ORDER BY');
  });

  it('takes a cursor for the same order however it is spelled, and refuses one made for another', () => {
    const spelled = (order: string) => buildListStatement(model(), { order }).orderFingerprint;
    expect(spelled('category')).toBe(spelled('category.asc.nullslast'));
    expect(spelled('category.desc')).toBe(spelled('category.desc.nullsfirst'));
    expect(spelled('category.desc')).not.toBe(spelled('category.desc.nullslast'));
    const cursor = encodeCursor(buildListStatement(model(), { order: 'price' }), ['1', 'x']);
    expect(problems(() => buildListStatement(model(), { order: 'name', cursor }))).toEqual([
      'cursor: was made for another order (or entity); keep the order of the request that gave it',
    ]);
    expect(problems(() => buildListStatement(model(), { order: 'price', cursor, offset: '3' }))).toEqual([
      'cursor: cannot be combined with offset',
    ]);
  });

  it('names a malformed cursor', () => {
    const statement = buildListStatement(model(), { order: 'price' });
    const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const fingerprint = statement.orderFingerprint;
    for (const cursor of [
      'not base64!',
      raw('just text'),
      Buffer.from('{not json').toString('base64url'),
      raw({ o: fingerprint }),
      raw({ o: fingerprint, k: ['1'] }),
      raw({ o: fingerprint, k: [1, 'x'] }),
      // price is required, so a NULL there never came from a row
      raw({ o: fingerprint, k: [null, 'x'] }),
    ]) {
      expect([cursor, problems(() => buildListStatement(model(), { order: 'price', cursor }))]).toEqual([
        cursor,
        ['cursor: malformed; pass the cursor of a Link header unchanged'],
      ]);
    }
    expect(problems(() => buildListStatement(model(), { cursor: ['a', 'b'] }))).toEqual([
      'cursor: given more than once',
    ]);
  });

  it('links the next page: the same query with the cursor instead of offset or an older cursor', () => {
    expect(
      nextPageLink(
        '/crud/product',
        { price: ['gte.1', 'lt.10'], name: 'ilike.*a b*', offset: '20', cursor: 'old', limit: '5' },
        'abc_-',
      ),
    ).toBe('</crud/product?price=gte.1&price=lt.10&name=ilike.*a+b*&limit=5&cursor=abc_->; rel="next"');
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

  it('counts text lengths in characters (code points), as JSON Schema and char_length do', () => {
    expect([...validateWrite(model(), { name: '😀'.repeat(10), price: 1 }, 'create')][0]).toEqual([
      'name',
      '😀'.repeat(10),
    ]);
    expect(problems(() => validateWrite(model(), { name: '😀'.repeat(11), price: 1 }, 'create'))).toEqual([
      'name: must be at most 10 characters',
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
