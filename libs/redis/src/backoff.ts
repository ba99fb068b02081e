/**
 * The one backoff of choreo: every wait that grows after a failure (a reconnect, a retried entry, a
 * relay or app restart) is `backoffDelayMs` with one of the policies below.
 *
 *   delay(attempt) = min(maxMs, baseMs · 2^(attempt − 1)) · (1 − jitter · u),  u uniform in [0, 1)
 *
 * `attempt` counts failures from 1. Jitter only ever shortens a delay, so `maxMs` is a true bound, and
 * it spreads out clients that failed together (a Redis restart) so they do not retry in lockstep.
 */
export interface Backoff {
  /** Delay after the first failure. */
  baseMs: number;
  /** Cap on the delay. */
  maxMs: number;
  /** Fraction (0..1) of the delay that is randomised away. */
  jitter: number;
}

/** The delay before attempt `failedAttempt + 1` (see the formula above). */
export function backoffDelayMs(
  failedAttempt: number,
  policy: Backoff,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // 2^exponent overflows to Infinity for absurd attempt counts; min() keeps that harmless.
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(capped * (1 - jitter * random()));
}

/** The policies in use, so that each wait is named where it is tuned. */
export const BACKOFF = {
  /** A lost Redis connection (every client `createRedis` builds): 100 ms, 200 ms … 2 s. */
  redisReconnect: { baseMs: 100, maxMs: 2_000, jitter: 0.2 },
  /** A consumer's read loop after a failed read: 200 ms … 5 s. */
  readLoop: { baseMs: 200, maxMs: 5_000, jitter: 0.2 },
  /** A failed stream entry before it may be reclaimed (the consumer's `retry` option): 1 s … 30 s. */
  entryRetry: { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 },
  /** The CDC relay's replication session or an append after a failure: 100 ms … 5 s, half jitter. */
  relaySession: { baseMs: 100, maxMs: 5_000, jitter: 0.5 },
  /** An app that cannot start yet (its database is not up): 0.5 s … 30 s. */
  appStart: { baseMs: 500, maxMs: 30_000, jitter: 0.2 },
  /** `npm start` bringing a crashed app back: 0.5 s, 1 s, 2 s … 30 s, no jitter (the log says when). */
  appRestart: { baseMs: 500, maxMs: 30_000, jitter: 0 },
} as const satisfies Record<string, Backoff>;
