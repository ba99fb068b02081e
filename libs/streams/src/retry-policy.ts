/** How long a failed entry waits before a live consumer reclaims it. */
export interface RetryPolicy {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** Cap on the delay; also bounded by the consumer's claim timeout. */
  maxMs: number;
  /** Fraction (0..1) of the delay that is randomised away, so that failures do not retry in lockstep. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 };

/**
 * The delay before attempt `failedAttempt + 1`:
 * `min(maxMs, baseMs · 2^(failedAttempt − 1)) · (1 − jitter · u)`, u uniform in [0, 1).
 */
export function retryDelayMs(
  failedAttempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // 2^exponent overflows to Infinity for absurd attempt counts; min() keeps that harmless.
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(capped * (1 - jitter * random()));
}
