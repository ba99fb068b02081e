import type Redis from 'ioredis';

// Checks and deletes in one script: between an XINFO read and a DELCONSUMER sent separately, the
// consumer could be handed entries, and deleting it would drop them from the group's pending list.
const DELETE_IDLE_CONSUMERS = `
local deleted = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #consumer, 2 do
    if consumer[i] == 'name' then name = consumer[i + 1] end
    if consumer[i] == 'pending' then pending = consumer[i + 1] end
    if consumer[i] == 'idle' then idle = consumer[i + 1] end
  end
  if (ARGV[2] == '' or name == ARGV[2]) and pending == 0 and idle >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    table.insert(deleted, name)
  end
end
return deleted`;

/**
 * Deletes consumers of a group that own no pending entry and have not touched the stream for
 * `minIdleMs` (pods that are gone); only `consumer` when given. A consumer that owns entries is never
 * deleted: its entries are reclaimed first, and it goes on a later run. A live consumer that was
 * deleted anyway (stalled longer than minIdleMs) is recreated by its next XREADGROUP.
 * Resolves to the names deleted.
 */
export async function deleteIdleConsumers(
  redis: Redis,
  stream: string,
  group: string,
  options: { consumer?: string; minIdleMs?: number } = {},
): Promise<string[]> {
  return (await redis.eval(
    DELETE_IDLE_CONSUMERS,
    1,
    stream,
    group,
    options.consumer ?? '',
    String(options.minIdleMs ?? 0),
  )) as string[];
}
