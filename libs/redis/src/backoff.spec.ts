import { BACKOFF, backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000, jitter: 0.5 };

  it('doubles with each failed attempt up to the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, policy, noJitter))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('takes at most the jitter fraction away', () => {
    expect(backoffDelayMs(2, policy, () => 0.999_999)).toBe(100);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(150);
  });

  it('stays finite for huge attempt counts', () => {
    expect(backoffDelayMs(5_000, policy, () => 0)).toBe(1_000);
  });
});

describe('BACKOFF', () => {
  it("npm start's restart delay: 0.5 s, 1 s, 2 s … capped at 30 s, no jitter", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, BACKOFF.appRestart))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('every policy is bounded by its cap, whatever the jitter draws', () => {
    for (const policy of Object.values(BACKOFF)) {
      for (const u of [0, 0.5, 0.999])
        expect(backoffDelayMs(100, policy, () => u)).toBeLessThanOrEqual(policy.maxMs);
    }
  });
});
