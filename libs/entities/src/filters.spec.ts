import { parseEntity } from './load-entities';
import { EntityModel } from './entity-model';
import { likePatternProblem } from './filter-operators';
import { filterConditions } from './filters';
import { StatementBuilder } from './query-syntax';

function model(): EntityModel {
  const result = parseEntity(
    `
name: item
fields:
  name: { type: text }
  qty: { type: integer }
  attrs: { type: jsonb }
  active: { type: boolean }
`,
    'item.yaml',
  );
  if (!('model' in result)) throw new Error(JSON.stringify(result.problems));
  return result.model;
}

function where(input: Record<string, string>) {
  const sql = new StatementBuilder();
  const conditions = filterConditions(model(), input, sql);
  return { conditions, values: sql.values, problems: sql.problems.map((p) => `${p.field}: ${p.message}`) };
}

describe('PostgREST filters', () => {
  it('turns or/and trees, not and any/all into parameterised SQL', () => {
    expect(where({ or: '(qty.gt.1,and(name.eq."a,b",active.not.is.true))' })).toEqual({
      conditions: ['("qty" > $1::integer OR ("name" = $2::text AND NOT ("active" IS TRUE)))'],
      values: [1, 'a,b'],
      problems: [],
    });
    expect(where({ 'not.and': '(qty.gte.1,qty.lte.5)', name: 'like(any).{a*,*b}' })).toEqual({
      conditions: ['NOT ("qty" >= $1::integer AND "qty" <= $2::integer)', '"name" LIKE ANY($3::text[])'],
      values: [1, 5, ['a%', '%b']],
      problems: [],
    });
    expect(where({ attrs: 'cs.{"a":1}', name: 'fts(english).cat' })).toEqual({
      conditions: [
        '"attrs" @> $1::jsonb',
        'to_tsvector($2::regconfig, "name") @@ to_tsquery($2::regconfig, $3::text)',
      ],
      values: ['{"a":1}', 'english', 'cat'],
      problems: [],
    });
  });

  it('names what it cannot run: unknown fields, range operators, NULs, lone escapes', () => {
    expect(
      where({
        or: '(nope.eq.1,qty.sl.(1,2))',
        name: 'eq.a\u0000b',
        qty: 'like.1*',
        active: 'gt.true',
      }).problems,
    ).toEqual([
      "or: 'nope' is not a field of item",
      'or: sl needs a range or array field, and qty is not one',
      'name: contains a NUL character (U+0000), which PostgreSQL cannot store',
      'qty: like needs a text field',
      'active: gt is not available for boolean fields',
    ]);
    expect(likePatternProblem('abc\\')).toContain('lone backslash');
    expect(likePatternProblem('abc\\\\')).toBeUndefined();
  });
});
