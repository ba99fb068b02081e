import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { RelayEvent } from './relay-events';

/** The Redis key holding a stream's high-water mark: the position of the newest event it holds. */
export function highWaterMarkKey(stream: string): string {
  // The hash tag is the whole stream name, so in Redis Cluster the mark lives in the stream's slot
  // and one script can touch both.
  return `cdc:hwm:{${stream}}`;
}

/**
 * Appends, atomically, the events of one batch that are newer than the stream's high-water mark,
 * and moves the mark to the last one. Positions are fixed-width hex text; they are compared in
 * 8-digit pieces with tonumber (exact in Lua's doubles) rather than with `<` on strings, which Lua
 * does with strcoll under whatever locale redis-server was started in.
 *
 * ARGV: the position of the last event of the batch sent before this one to the same stream ('' for
 * none), then position, field count, fields…, position, field count, fields… (positions ascending).
 * Batches are pipelined; if an earlier one has not landed (it failed, and is being retried), this
 * one must not land before it: the mark would jump past the earlier events, which would then be
 * skipped as duplicates. So a batch whose predecessor is missing fails with GAP and is retried.
 * Returns { appended, skipped }.
 */
export const APPEND_NEWER_LUA = `
local mark = redis.call('GET', KEYS[2])
local function newer(a, b)
  for _, range in ipairs({{1, 8}, {9, 16}, {18, 25}}) do
    local x = tonumber(string.sub(a, range[1], range[2]), 16)
    local y = tonumber(string.sub(b, range[1], range[2]), 16)
    if x ~= y then return x > y end
  end
  return false
end
local previous = ARGV[1]
if previous ~= '' and ((not mark) or newer(previous, mark)) then
  return redis.error_reply('GAP the batch before this one is not in ' .. KEYS[1] .. ' yet')
end
local i, appended, skipped, fresh, last = 2, 0, 0, false, nil
while i <= #ARGV do
  local position = ARGV[i]
  local count = tonumber(ARGV[i + 1])
  if not fresh then fresh = (not mark) or newer(position, mark) end
  if fresh then
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 2, i + 1 + count))
    appended = appended + 1
    last = position
  else
    skipped = skipped + 1
  end
  i = i + 2 + count
end
if last then redis.call('SET', KEYS[2], last) end
return {appended, skipped}
`;

const SCRIPT_SHA = createHash('sha1').update(APPEND_NEWER_LUA).digest('hex');

export interface AppendResult {
  appended: number;
  skipped: number;
}

/**
 * Appends a batch of events (ascending positions, all for `stream`) unless the stream already holds
 * them. Safe to repeat: after a crash, a replay of the same WAL appends only what is missing.
 * `previous` is the last position of the batch sent before it to this stream, if any (see GAP).
 */
export async function appendNewer(
  redis: Redis,
  stream: string,
  events: readonly RelayEvent[],
  previous = '',
): Promise<AppendResult> {
  const args: (string | number)[] = [previous];
  for (const event of events) {
    args.push(event.position, event.fields.length);
    for (const field of event.fields) args.push(field);
  }
  let reply: unknown;
  try {
    reply = await redis.evalsha(SCRIPT_SHA, 2, stream, highWaterMarkKey(stream), ...args);
  } catch (error) {
    // A restarted Redis has an empty script cache.
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
    reply = await redis.eval(APPEND_NEWER_LUA, 2, stream, highWaterMarkKey(stream), ...args);
  }
  const [appended, skipped] = reply as [number, number];
  return { appended, skipped };
}

/** Loads the append script into Redis' script cache (after a connect: a restarted Redis has none). */
export async function loadAppendScript(redis: Redis): Promise<void> {
  await redis.script('LOAD', APPEND_NEWER_LUA);
}

/** The high-water mark of a stream (position text), or null when the relay never wrote to it. */
export function readHighWaterMark(redis: Redis, stream: string): Promise<string | null> {
  return redis.get(highWaterMarkKey(stream));
}
