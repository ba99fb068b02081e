import { retryDelayMs } from './retry-policy';

describe('retryDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000, jitter: 0.5 };

  it('doubles with each failed attempt up to the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, policy, noJitter))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('takes at most the jitter fraction away', () => {
    expect(retryDelayMs(2, policy, () => 0.999_999)).toBe(100);
    expect(retryDelayMs(2, policy, () => 0.5)).toBe(150);
  });

  it('stays finite for huge attempt counts', () => {
    expect(retryDelayMs(5_000, policy, () => 0)).toBe(1_000);
  });
});
