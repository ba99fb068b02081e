import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';

/** Thrown when another delivery of the same event is being handled right now: retry later, do not skip. */
export class DuplicateInFlightError extends Error {
  constructor(readonly key: string) {
    super(`another delivery of this event is being handled (${key}); will retry`);
    this.name = 'DuplicateInFlightError';
  }
}

export interface EventDedupeOptions {
  /** How long a handled event id is remembered. Redelivery after this window runs the effect again. */
  ttlSeconds?: number;
  /** How long a delivery holds the id while its effect runs; a crashed holder frees it after this. */
  leaseMs?: number;
  keyPrefix?: string;
}

// Releases the lease only if it is still ours: after a slow effect the lease may belong to another delivery.
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Runs an effect at most once per (scope, event id) with `SET NX`, for handlers whose effect is not a
 * database write. A delivery first takes a lease on the id; on success the id is marked done for
 * `ttlSeconds`; on failure the lease is released so the retry runs the effect. A duplicate that
 * arrives while the first is still running fails with DuplicateInFlightError and is retried later,
 * because skipping it would lose the effect if the first one then fails.
 */
export class EventDedupe {
  private readonly ttlSeconds: number;
  private readonly leaseMs: number;
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    options: EventDedupeOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.keyPrefix = options.keyPrefix ?? 'dedupe';
  }

  /** Runs `effect` unless this event id was already handled in `scope`; resolves whether it ran. */
  async once(scope: string, eventId: string, effect: () => Promise<unknown>): Promise<boolean> {
    const key = `${this.keyPrefix}:${scope}:${eventId}`;
    const token = `lease:${randomUUID()}`;
    const acquired = await this.redis.set(key, token, 'PX', this.leaseMs, 'NX');
    if (acquired === null) {
      if ((await this.redis.get(key)) === 'done') return false;
      throw new DuplicateInFlightError(key);
    }
    try {
      await effect();
    } catch (error) {
      await this.redis.eval(RELEASE_LEASE, 1, key, token);
      throw error;
    }
    await this.redis.set(key, 'done', 'EX', this.ttlSeconds);
    return true;
  }
}
