import type Redis from 'ioredis';

/**
 * How long `dead-letters` keeps an entry. Age is the only thing that deletes: a length cap (MAXLEN)
 * would, during a flood of poison entries, delete the newest dead letters but one batch — exactly the
 * evidence an operator needs — so the length only raises an alarm (a gauge and a warning).
 */
export interface DeadLetterRetention {
  /** Dead letters older than this are deleted, never a younger one; 0 keeps them forever. */
  maxAgeMs: number;
  /** Past this many entries `dead-letters` is reported as over its bound (warning + gauge); 0: no bound. */
  alertLength: number;
  /** How often retention runs and the dead-letter gauges are sampled. Default 30000. */
  intervalMs?: number;
}

/** What one retention pass did and saw. */
export interface RetentionResult {
  /** Entries deleted because they were older than the window. */
  expired: number;
  /** Entries left. */
  length: number;
  /** Age of the oldest entry left, in seconds (0 when empty), by the Redis server's clock. */
  oldestAgeSeconds: number;
}

// One script: the window is measured against the Redis server's clock (TIME), the clock that stamped
// the entry ids (XADD *), so a skewed app clock can never make a young dead letter look old. XTRIM MINID
// keeps every id ≥ now − window, exactly (not `~`): only entries older than the window go.
// Lua numbers are doubles, exact for millisecond timestamps; '%.0f' prints them without an exponent.
const APPLY_RETENTION = `
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local maxAgeMs = tonumber(ARGV[1])
local expired = 0
if maxAgeMs > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  expired = redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f', nowMs - maxAgeMs) .. '-0')
end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local oldestAgeMs = 0
if #first > 0 then
  local dash = string.find(first[1][1], '-', 1, true)
  oldestAgeMs = math.max(0, nowMs - tonumber(string.sub(first[1][1], 1, dash - 1)))
end
return {expired, redis.call('XLEN', KEYS[1]), oldestAgeMs}
`;

/**
 * Deletes the dead letters older than `maxAgeMs` (0: none) and reports what is left. Idempotent, so
 * any number of replicas may run it at once.
 */
export async function applyDeadLetterRetention(
  redis: Redis,
  stream: string,
  maxAgeMs: number,
): Promise<RetentionResult> {
  const [expired, length, oldestAgeMs] = (await redis.eval(
    APPLY_RETENTION,
    1,
    stream,
    String(Math.max(0, Math.floor(maxAgeMs))),
  )) as [number, number, number];
  return { expired, length, oldestAgeSeconds: oldestAgeMs / 1000 };
}
