import type { AggregateResultData } from '@choreo/contracts';
import { applyAggregateSnapshot, applyResult, byGroup, RuleWindows, series } from './aggregate-state';

const result = (over: Partial<AggregateResultData>): AggregateResultData => ({
  rule: 'orders_per_minute',
  key: [],
  group: {},
  window_start: '2026-12-05T10:00:00.000Z',
  window_end: '2026-12-05T10:01:00.000Z',
  values: { orders: 1 },
  events: 1,
  version: 1,
  final: false,
  ...over,
});

describe('aggregate state', () => {
  it('keeps the highest version of each window and ignores anything that is not a result', () => {
    let sut: RuleWindows = new Map();
    sut = applyResult(sut, result({ version: 2, values: { orders: 5 } }));
    sut = applyResult(sut, result({ version: 1, values: { orders: 3 } }));
    sut = applyResult(sut, { nonsense: true });
    expect(series(sut, 'orders')).toEqual([[Date.parse('2026-12-05T10:00:00Z') / 1000], [5]]);
  });

  it('orders windows by start and reads decimal text as numbers', () => {
    let sut: RuleWindows = new Map();
    sut = applyResult(
      sut,
      result({ window_start: '2026-12-05T10:05:00.000Z', values: { revenue: '30.50' } }),
    );
    sut = applyResult(
      sut,
      result({ window_start: '2026-12-05T10:00:00.000Z', values: { revenue: '12.00' } }),
    );
    expect(series(sut, 'revenue')[1]).toEqual([12, 30.5]);
  });

  it('takes every window of a snapshot', () => {
    const sut = applyAggregateSnapshot(new Map(), {
      values: {
        '["tea"]': result({ rule: 'products_per_category', key: ['tea'], values: { products: 2 } }),
        '["cake"]': result({ rule: 'products_per_category', key: ['cake'], values: { products: 3 } }),
        '["gone"]': result({ rule: 'products_per_category', key: ['gone'], values: { products: 0 } }),
      },
    });
    expect(byGroup(sut, 'products')).toEqual([
      { label: 'cake', value: 3 },
      { label: 'tea', value: 2 },
    ]);
  });
});
