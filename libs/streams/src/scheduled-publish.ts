import { encodeEnvelope, EventEnvelope } from '@choreo/contracts';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';

/** An event waiting in a schedule: a sorted set whose member stands for it until it is published. */
export interface ScheduledPublishRequest {
  /** The sorted set the event is scheduled in. */
  schedule: string;
  /** The event's member in that set. */
  member: string;
  stream: string;
  event: EventEnvelope;
}

// Appends the event and takes its member out of the schedule in one atomic step: a process killed
// anywhere leaves the event either still scheduled or on its stream, and of several processes racing
// for the same member exactly one appends it. XADD goes before ZREM because a script is not rolled
// back: an XADD that fails (a key of the wrong type) must leave the member scheduled, not lost.
// Not for Redis Cluster: both keys must live on one node.
const PUBLISH_SCHEDULED = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('ZREM', KEYS[1], ARGV[1])
return id`;

const COMMAND = 'choreoPublishScheduled';

type WithPublishScheduled<T> = T & {
  [COMMAND](schedule: string, stream: string, member: string, ...fields: string[]): T;
};

/**
 * Publishes scheduled events, each only if its member is still in its schedule, removing the member in
 * the same atomic step (a Lua script), in order and in one round trip. Resolves to each event's entry
 * id, or null where the member was gone: another process published it first, or it was unscheduled.
 * `encode` turns an event into stream fields (the publisher adds the trace context there).
 */
export async function publishScheduled(
  redis: Redis,
  requests: readonly ScheduledPublishRequest[],
  encode: (event: EventEnvelope) => string[] = encodeEnvelope,
): Promise<(string | null)[]> {
  if (requests.length === 0) return [];
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: PUBLISH_SCHEDULED });
  const pipeline = redis.pipeline() as WithPublishScheduled<ChainableCommander>;
  for (const { schedule, member, stream, event } of requests) {
    pipeline[COMMAND](schedule, stream, member, ...encode(event));
  }
  const replies = (await pipeline.exec()) ?? [];
  const failures = replies.flatMap(([error], index) => (error ? [{ index, error }] : []));
  if (failures.length > 0) {
    throw new Error(
      `${failures.length} of ${requests.length} scheduled events were not published: ` +
        failures.map((f) => `#${f.index} → ${requests[f.index].stream}: ${f.error.message}`).join('; '),
    );
  }
  return replies.map(([, entryId]) => (entryId as string | null) ?? null);
}
