import type Redis from 'ioredis';
import type { JourneyFacts, ScheduledStep } from '../journey/journey-planner';

/**
 * Where journeys live in Redis, shared by every replica (a process keeps nothing between events):
 * - `simulator:due`, a sorted set of due steps: member `<order id>|<step name>`, score its due time (ms);
 * - `simulator:journey:<order id>`, a hash: the facts (`address`), one `phase:<status>` mark per phase
 *   scheduled, one `step:<name>` per step waiting (its event as JSON), and `ended` once it is over;
 * - `simulator:journeys`, the set of order ids whose journey is in flight.
 */
export const JOURNEY_KEYS = {
  due: 'simulator:due',
  inFlight: 'simulator:journeys',
  journey: (orderId: string) => `simulator:journey:${orderId}`,
} as const;

/** A finished journey's hash is kept this long, so a late redelivery of its events schedules nothing. */
export const ENDED_JOURNEY_TTL_SECONDS = 24 * 3600;

// Schedules one phase at most once per journey (the phase mark), never after the journey ended: a
// redelivered order event, or one a second replica handles too, adds nothing. Atomic with the steps it
// adds, so a crash leaves either the whole phase scheduled or none of it.
const SCHEDULE_PHASE = `
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return 'ended' end
if redis.call('HSETNX', KEYS[1], 'phase:' .. ARGV[2], ARGV[4]) == 0 then return 'duplicate' end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'address', ARGV[3]) end
for i = 5, #ARGV, 3 do
  redis.call('HSET', KEYS[1], 'step:' .. ARGV[i], ARGV[i + 2])
  redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[1] .. '|' .. ARGV[i])
end
redis.call('SADD', KEYS[3], ARGV[1])
return 'scheduled'`;

// Ends a journey: unschedules every step still waiting (a step already being published either made it
// to its stream before this runs, or finds its member gone), marks it ended, and lets the hash expire.
const END_JOURNEY = `
local removed = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 5) == 'step:' then
    removed = removed + redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. string.sub(field, 6))
    redis.call('HDEL', KEYS[1], field)
  end
end
redis.call('HSET', KEYS[1], 'ended', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SREM', KEYS[3], ARGV[1])
return removed`;

/** A step whose time has come, read back from Redis. */
export interface DueStep {
  member: string;
  orderId: string;
  name: string;
  dueAt: number;
  /** Undefined when the journey no longer holds the step (ended, or already published). */
  step?: Pick<ScheduledStep, 'stream' | 'event'>;
}

export type ScheduleOutcome = 'scheduled' | 'duplicate' | 'ended';

/** The journeys' state in Redis; every write is one atomic script, safe under crashes and replicas. */
export class JourneyStore {
  constructor(private readonly redis: Redis) {}

  /** Schedules a phase's steps unless this phase was scheduled before or the journey is over. */
  async schedule(
    orderId: string,
    phase: string,
    steps: readonly ScheduledStep[],
    facts: JourneyFacts = {},
    now = Date.now(),
  ): Promise<ScheduleOutcome> {
    const args = steps.flatMap((s) => [
      s.name,
      String(s.dueAt),
      JSON.stringify({ stream: s.stream, event: s.event }),
    ]);
    const keys = [JOURNEY_KEYS.journey(orderId), JOURNEY_KEYS.due, JOURNEY_KEYS.inFlight];
    return (await this.redis.eval(
      SCHEDULE_PHASE,
      keys.length,
      ...keys,
      orderId,
      phase,
      facts.address ?? '',
      String(now),
      ...args,
    )) as ScheduleOutcome;
  }

  /** Ends a journey (delivered or cancelled); resolves to how many waiting steps were dropped. */
  async end(orderId: string, status: string): Promise<number> {
    const keys = [JOURNEY_KEYS.journey(orderId), JOURNEY_KEYS.due, JOURNEY_KEYS.inFlight];
    return (await this.redis.eval(
      END_JOURNEY,
      keys.length,
      ...keys,
      orderId,
      status,
      String(ENDED_JOURNEY_TTL_SECONDS),
    )) as number;
  }

  async facts(orderId: string): Promise<JourneyFacts> {
    const address = await this.redis.hget(JOURNEY_KEYS.journey(orderId), 'address');
    return address === null ? {} : { address };
  }

  /** Up to `limit` steps due by `now`, earliest first, with their events. */
  async due(now: number, limit: number): Promise<DueStep[]> {
    const flat = await this.redis.zrangebyscore(
      JOURNEY_KEYS.due,
      '-inf',
      now,
      'WITHSCORES',
      'LIMIT',
      0,
      limit,
    );
    const due: DueStep[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const member = flat[i];
      const split = member.indexOf('|');
      due.push({
        member,
        orderId: member.slice(0, split),
        name: member.slice(split + 1),
        dueAt: Number(flat[i + 1]),
      });
    }
    if (due.length === 0) return due;
    const pipeline = this.redis.pipeline();
    for (const d of due) pipeline.hget(JOURNEY_KEYS.journey(d.orderId), `step:${d.name}`);
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, json], i) => {
      if (error) throw error;
      if (typeof json === 'string') due[i].step = JSON.parse(json) as DueStep['step'];
    });
    return due;
  }

  /** Forgets published steps' events (their members already left the schedule). */
  async forget(steps: readonly Pick<DueStep, 'orderId' | 'name'>[]): Promise<void> {
    if (steps.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const s of steps) pipeline.hdel(JOURNEY_KEYS.journey(s.orderId), `step:${s.name}`);
    await pipeline.exec();
  }

  /** Drops members whose journey holds no event for them (a hash that expired or was deleted by hand). */
  async dropStray(members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(JOURNEY_KEYS.due, ...members);
  }

  /** When the earliest step is due, or undefined when nothing is scheduled. */
  async nextDueAt(): Promise<number | undefined> {
    const [, score] = await this.redis.zrange(JOURNEY_KEYS.due, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  async inFlight(): Promise<number> {
    return this.redis.scard(JOURNEY_KEYS.inFlight);
  }

  async scheduledSteps(): Promise<number> {
    return this.redis.zcard(JOURNEY_KEYS.due);
  }
}
