import { type Backoff, BACKOFF, backoffDelayMs } from '@choreo/redis';

/** How long a failed entry waits before a live consumer reclaims it (the consumer's `retry` option). */
export type RetryPolicy = Backoff;

export const DEFAULT_RETRY_POLICY: RetryPolicy = BACKOFF.entryRetry;

/** The delay before a failed entry's next attempt: `backoffDelayMs` under the consumer's policy. */
export const retryDelayMs = backoffDelayMs;
