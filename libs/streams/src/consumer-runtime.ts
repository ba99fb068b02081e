import type Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerSettings, StreamsLogger } from './consumer-options';
import type { StreamsMetrics } from './streams-metrics';

/** What the parts of a started StreamConsumer (delivery, reclaim, group upkeep) share. */
export interface ConsumerRuntime {
  readonly settings: ConsumerSettings;
  /** The commands connection (never the blocked reader). */
  readonly redis: Redis;
  readonly logger: StreamsLogger;
  readonly metrics: StreamsMetrics;
  /** Aborted when stop() begins: loops end and their pauses return at once. */
  readonly stopping: AbortSignal;
  /** Creates the groups again (a Redis that came back empty lost them). */
  ensureGroups(): Promise<void>;
}

/** One entry delivered to this consumer, by a read or a reclaim. */
export interface Delivery {
  stream: string;
  entryId: string;
  fields: string[];
  deliveryCount: number;
}

/** What became of an entry: acknowledge it, leave it pending for a retry, or already settled (dead-lettered). */
export type Outcome = 'ack' | 'pending' | 'settled';

/** Sleeps, returning early once `signal` aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

// Refreshes the claim of entries this consumer still owns and sets their idle time. Checking the owner
// first matters: XCLAIM with min-idle 0 would otherwise take an entry back from a consumer that
// legitimately reclaimed it, and the event would run twice at once. JUSTID keeps the delivery count.
const REFRESH_CLAIM = `
local kept = 0
for i = 4, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #entry == 1 and entry[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
    kept = kept + 1
  end
end
return kept`;

/**
 * Sets the idle time of entries this consumer still owns to `idleMs`: 0 keeps a long-running claim
 * alive; `claimTimeoutMs − delay` makes a failed entry due for XAUTOCLAIM after `delay`.
 */
export async function refreshClaims(
  runtime: ConsumerRuntime,
  stream: string,
  entryIds: string[],
  idleMs: number,
): Promise<number> {
  const { group, consumer } = runtime.settings;
  return (await runtime.redis.eval(
    REFRESH_CLAIM,
    1,
    stream,
    group,
    consumer,
    String(idleMs),
    ...entryIds,
  )) as number;
}
