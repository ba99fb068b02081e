import { aggregateStateKey } from './aggregate-state-key';

describe('aggregateStateKey', () => {
  const window_start = '1970-01-01T00:00:00.000Z';

  it('keeps the groups of one window apart', () => {
    const keys = [['drinks'], ['pizza'], ['a,b'], ['a', 'b'], [null]].map((key) =>
      aggregateStateKey({ key, window_start }),
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(aggregateStateKey({ key: ['drinks'], window_start })).toBe(`["drinks"]@${window_start}`);
  });

  it('keeps the windows of one group apart, and the same group and window together', () => {
    const a = aggregateStateKey({ key: [], window_start: '2026-12-05T10:00:00.000Z', version: 1 });
    const b = aggregateStateKey({ key: [], window_start: '2026-12-05T10:05:00.000Z', version: 1 });
    expect(a).not.toBe(b);
    expect(aggregateStateKey({ key: [], window_start: '2026-12-05T10:00:00.000Z', version: 2 })).toBe(a);
  });

  it('gives no key to a value with neither group nor window', () => {
    expect(aggregateStateKey({ values: { n: 1 } })).toBeUndefined();
  });
});
