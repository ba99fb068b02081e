import type Redis from 'ioredis';

// One script, so no group can read or claim between computing the MINID and trimming: atomic by
// construction. Stream ids are compared as (length, text) of their two decimal parts, which is exact for
// any 64-bit id (Lua numbers are doubles and would round large ones).
const TRIM_SCRIPT = `
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  if not dash then return id, '0' end
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end
local function less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function lower(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  if ams ~= bms then if less(ams, bms) then return a else return b end end
  if less(aseq, bseq) then return a else return b end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {false, 0} end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return {false, 0} end
local minid = nil
for _, group in ipairs(groups) do
  local name, delivered
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then delivered = group[i + 1] end
  end
  local needed = delivered
  local summary = redis.call('XPENDING', KEYS[1], name)
  if summary[1] > 0 then needed = lower(needed, summary[2]) end
  if minid == nil then minid = needed else minid = lower(minid, needed) end
end
local trimmed
if ARGV[1] == '1' then
  trimmed = redis.call('XTRIM', KEYS[1], 'MINID', '~', minid)
else
  trimmed = redis.call('XTRIM', KEYS[1], 'MINID', minid)
end
return {minid, trimmed}
`;

/** What a trim did. */
export interface TrimResult {
  /** The MINID trimmed at, or undefined when the stream has no group (nothing is known to be consumed). */
  minId: string | undefined;
  /** Entries removed. */
  trimmed: number;
}

/**
 * Trims a stream with `MINID` at the oldest entry some group still needs: for each group the lower of
 * its oldest pending id and its last-delivered id, then the lowest over all groups. It never removes an
 * entry a group has not acknowledged. A stream without groups is left alone. `approximate` trims only
 * whole macro nodes (cheaper, may keep a few more entries).
 */
export async function trimConsumedEntries(
  redis: Redis,
  stream: string,
  options: { approximate?: boolean } = {},
): Promise<TrimResult> {
  const [minId, trimmed] = (await redis.eval(TRIM_SCRIPT, 1, stream, options.approximate ? '1' : '0')) as [
    string | null,
    number,
  ];
  return { minId: minId ?? undefined, trimmed };
}
