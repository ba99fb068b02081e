import { decodeEnvelope, Streams } from '@choreo/contracts';
import { StreamPublisher } from '@choreo/streams';
import { useSpecServers } from '@choreo/testing';
import type Redis from 'ioredis';
import { JourneyPlanner, ScheduledStep } from '../journey/journey-planner';
import { DEFAULT_JOURNEY_SETTINGS } from '../journey/journey-settings';
import { JOURNEY_KEYS, JourneyStore } from './journey-store';
import { StepDispatcher } from './step-dispatcher';

const planner = new JourneyPlanner(
  { ...DEFAULT_JOURNEY_SETTINGS, rejectRate: 0 },
  { kitchen: Streams.kitchen, couriers: Streams.couriers },
);
const t0 = Date.parse('2026-12-05T12:00:00.000Z');

function deliveryOf(orderId: string): ScheduledStep[] {
  const reaction = planner.react(
    {
      id: `evt-${orderId}`,
      type: 'order.out_for_delivery',
      source: 'events',
      subject: orderId,
      time: new Date(t0).toISOString(),
      data: {},
    },
    { address: `${orderId} Loop Road` },
    t0,
  );
  if (reaction.kind !== 'schedule') throw new Error('expected steps');
  return reaction.steps;
}

const orderId = (n: number) => `0190f6a4-7c1e-7000-8000-${String(n).padStart(12, '0')}`;
const quiet = { published: () => undefined, failed: (error: Error) => void error };

describe('JourneyStore and StepDispatcher (real Redis)', () => {
  const servers = useSpecServers({ redis: true });
  let redis: Redis;
  let store: JourneyStore;

  beforeAll(() => {
    redis = servers.redisClient;
    store = new JourneyStore(redis);
  });

  beforeEach(() => redis.flushall());

  it('schedules a phase once, never after the journey ended, and ending drops what waits', async () => {
    const id = orderId(1);
    const steps = deliveryOf(id);
    expect(await store.schedule(id, 'out_for_delivery', steps, { address: 'x' })).toBe('scheduled');
    expect(await store.schedule(id, 'out_for_delivery', steps)).toBe('duplicate');
    expect(await store.scheduledSteps()).toBe(steps.length);
    expect(await store.inFlight()).toBe(1);
    expect(await store.facts(id)).toEqual({ address: 'x' });
    expect(await store.nextDueAt()).toBe(steps[0].dueAt);

    expect(await store.end(id, 'cancelled')).toBe(steps.length);
    expect(await store.scheduledSteps()).toBe(0);
    expect(await store.inFlight()).toBe(0);
    expect(await store.schedule(id, 'ready', steps)).toBe('ended');
    expect(await store.end(id, 'cancelled')).toBe(0);
    expect(await redis.ttl(JOURNEY_KEYS.journey(id))).toBeGreaterThan(3600);
  });

  it('publishes due steps once, in due order, with two dispatchers racing; nothing early', async () => {
    const journeys = Array.from({ length: 30 }, (_, n) => orderId(100 + n));
    const all = journeys.flatMap((id) => deliveryOf(id).map((step) => ({ id, step })));
    for (const id of journeys) await store.schedule(id, 'out_for_delivery', deliveryOf(id));
    const cutoff = all.map((s) => s.step.dueAt).sort((a, b) => a - b)[Math.floor(all.length / 2)];
    const publisher = new StreamPublisher(redis);
    const dispatchers = [1, 2].map(
      () => new StepDispatcher(store, publisher, quiet, { batchSize: 7, now: () => cutoff }),
    );
    // Both drain what is due at `cutoff`, batch by batch, at the same time.
    const drain = async (d: StepDispatcher) => {
      while ((await d.dispatchDue()) > 0);
    };
    await Promise.all(dispatchers.map(drain));

    const published = (await redis.xrange(Streams.couriers, '-', '+')).map(([, f]) => decodeEnvelope(f));
    const expected = all.filter((s) => s.step.dueAt <= cutoff);
    expect(published.map((e) => e.id).sort()).toEqual(expected.map((s) => s.step.event.id).sort());
    expect(await store.scheduledSteps()).toBe(all.length - expected.length);
    // Per order, the stream holds its steps in due order.
    for (const id of journeys) {
      const own = published.filter((e) => e.subject === id).map((e) => e.id);
      expect(own).toEqual(expected.filter((s) => s.id === id).map((s) => s.step.event.id));
    }
    // A published step's event is forgotten; the rest stay until they are due.
    const left = await redis.hkeys(JOURNEY_KEYS.journey(journeys[0]));
    expect(left.filter((f) => f.startsWith('step:')).length).toBe(
      all.filter((s) => s.id === journeys[0] && s.step.dueAt > cutoff).length,
    );
  });

  it('drops a due member whose journey holds no step, without publishing anything', async () => {
    await redis.zadd(JOURNEY_KEYS.due, 1, `${orderId(7)}|kitchen.started`);
    const dispatcher = new StepDispatcher(store, new StreamPublisher(redis), quiet, { now: () => 10 });
    expect(await dispatcher.dispatchDue()).toBe(1);
    expect(await store.scheduledSteps()).toBe(0);
    expect(await redis.exists(Streams.kitchen)).toBe(0);
  });
});
