// The two Lua scripts of a channel. Each touches one channel's keys only (one hash tag).

/**
 * Publish, in one atomic step: guard the offset, append to the bounded history, keep state, fan out.
 * KEYS: meta, history, state, seen.
 * ARGV: 1 mode (seq | next | state), 2 offset (seq), 3 channel as JSON, 4 frame tail (`"event":…}`),
 * 5 now ms, 6 keep at least this many entries, 7 keep at least this long (ms), 8 key TTL (s),
 * 9 pub/sub channel, 10 epoch for a new channel, 11 (unused),
 * 12 state key or '', 13 event id or '' (next: dedupe), 14 state time ms (state).
 * Returns { outcome, offset, epoch }: outcome published | duplicate | gap | stale.
 *
 * seq: the offset is given (an order's sequence) and only `last + 1` is published; a duplicate is
 * dropped, a gap is refused (the caller fills it from the read model, or leaves the stream entry
 * pending so its retry comes after its predecessor).
 * next: the offset is `last + 1`, an event id seen in the last `keep ms` is a duplicate.
 * state: latest wins by event time; no offset, no history.
 */
export const PUBLISH_SCRIPT = `
local mode = ARGV[1]
local now = tonumber(ARGV[5])
local keepMs = tonumber(ARGV[7])
local ttl = tonumber(ARGV[8])
local stateKey = ARGV[12]
if mode == 'state' then
  local t = tonumber(ARGV[14])
  local prev = tonumber(redis.call('HGET', KEYS[3], stateKey .. '#t') or '-1')
  if t <= prev then return {'stale', 0, ''} end
  local frame = '{"type":"publication","channel":' .. ARGV[3] .. ',"key":' .. cjson.encode(stateKey) .. ',' .. ARGV[4]
  redis.call('HSET', KEYS[3], stateKey, frame, stateKey .. '#t', ARGV[14])
  redis.call('EXPIRE', KEYS[3], ttl)
  redis.call('SPUBLISH', ARGV[9], '\\t' .. stateKey .. '\\t' .. ARGV[5] .. '\\t' .. frame)
  return {'published', 0, ''}
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local last
if not epoch then
  epoch = ARGV[10]
  redis.call('DEL', KEYS[2])
  last = 0
  if mode == 'seq' and tonumber(ARGV[2]) ~= 1 then
    -- No history (a new channel, or Redis lost it): only the order's first event may start it; the
    -- caller publishes the predecessors from the read model first.
    return {'gap', 0, epoch}
  end
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'last', last)
else
  last = tonumber(redis.call('HGET', KEYS[1], 'last'))
end
local offset
if mode == 'seq' then
  offset = tonumber(ARGV[2])
  if offset <= last then return {'duplicate', last, epoch} end
  if offset > last + 1 then return {'gap', last, epoch} end
else
  if ARGV[13] ~= '' then
    if redis.call('ZADD', KEYS[4], 'NX', now, ARGV[13]) == 0 then return {'duplicate', last, epoch} end
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - keepMs)
    redis.call('EXPIRE', KEYS[4], ttl)
  end
  offset = last + 1
end
local keyPart = ''
if stateKey ~= '' then keyPart = ',"key":' .. cjson.encode(stateKey) end
local frame = '{"type":"publication","channel":' .. ARGV[3] .. ',"offset":' .. offset .. ',"epoch":"' .. epoch .. '"' .. keyPart .. ',' .. ARGV[4]
redis.call('XADD', KEYS[2], offset .. '-0', 'f', frame, 't', now)
redis.call('HSET', KEYS[1], 'last', offset)
if stateKey ~= '' then
  redis.call('HSET', KEYS[3], stateKey, frame)
  redis.call('EXPIRE', KEYS[3], ttl)
end
-- Keep an entry while it is among the last ARGV[6] or younger than keepMs; a few per call keeps up.
local keep = tonumber(ARGV[6])
for _ = 1, 4 do
  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  if not oldest then break end
  if offset - tonumber(string.match(oldest[1], '^(%d+)')) < keep then break end
  if tonumber(oldest[2][4]) > now - keepMs then break end
  redis.call('XDEL', KEYS[2], oldest[1])
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SPUBLISH', ARGV[9], offset .. '\\t' .. stateKey .. '\\t' .. ARGV[5] .. '\\t' .. frame)
return {'published', offset, epoch}
`;

/**
 * Read what a subscriber needs, atomically: the channel's epoch and last offset, its state frames,
 * and its history after `since` when the history still covers it.
 * KEYS: meta, history, state. ARGV: 1 since ('' = a fresh subscription), 2 epoch ('' = any), 3 max entries.
 * Returns { outcome, epoch, last, state (flat HGETALL), history (flat offset, frame) }: outcome
 * empty (no channel) | fresh | ok | epoch (changed) | uncovered (history lost or too long) | ahead.
 */
export const READ_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local state = redis.call('HGETALL', KEYS[3])
if not epoch then return {'empty', '', 0, state, {}} end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
if ARGV[1] == '' then return {'fresh', epoch, last, state, {}} end
local since = tonumber(ARGV[1])
if ARGV[2] ~= '' and ARGV[2] ~= epoch then return {'epoch', epoch, last, state, {}} end
if since == last then return {'ok', epoch, last, state, {}} end
if since > last then return {'ahead', epoch, last, state, {}} end
if last - since > tonumber(ARGV[3]) then return {'uncovered', epoch, last, state, {}} end
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
if not oldest or tonumber(string.match(oldest[1], '^(%d+)')) > since + 1 then
  return {'uncovered', epoch, last, state, {}}
end
local entries = redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')
local history = {}
for _, entry in ipairs(entries) do
  history[#history + 1] = string.match(entry[1], '^(%d+)')
  history[#history + 1] = entry[2][2]
end
return {'ok', epoch, last, state, history}
`;
