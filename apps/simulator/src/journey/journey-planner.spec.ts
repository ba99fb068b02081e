import type { EventEnvelope } from '@choreo/contracts';
import { CourierLocation, eventCatalog } from '@choreo/contracts';
import { distanceMeters, positionFor } from './geo';
import { JourneyPlanner, JourneyReaction, ScheduledStep, stepEventId } from './journey-planner';
import { DEFAULT_JOURNEY_SETTINGS, JourneySettings } from './journey-settings';

const streams = { kitchen: 'kitchen', couriers: 'couriers' };
const orderId = '0190f6a4-7c1e-7000-8000-000000000001';
const address = '3 Loop Road';
const t0 = Date.parse('2026-12-05T12:00:00.000Z');

function createPlanner(overrides: Partial<JourneySettings> = {}) {
  return new JourneyPlanner({ ...DEFAULT_JOURNEY_SETTINGS, ...overrides }, streams);
}

function orderEvent(status: string, id = orderId, time = t0): EventEnvelope {
  return {
    id: `evt-${status}-${id}`,
    type: `order.${status}`,
    source: 'events',
    subject: id,
    time: new Date(time).toISOString(),
    correlationid: 'corr-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    data:
      status === 'created'
        ? {
            order_id: id,
            status,
            customer: 'ada',
            address,
            items: [{ product_id: id, name: 'ramen', quantity: 1, unit_price: '12.00', line_total: '12.00' }],
            total: '12.00',
          }
        : { order_id: id, status, previous_status: 'created', trigger: 'api' },
  };
}

function stepsOf(reaction: JourneyReaction): ScheduledStep[] {
  if (reaction.kind !== 'schedule') throw new Error(`expected steps, got ${reaction.kind}`);
  return reaction.steps;
}

describe('JourneyPlanner', () => {
  const sut = createPlanner({ rejectRate: 0 });

  it('answers each lifecycle event with the next phase, and ends on delivered or cancelled', () => {
    const types = (status: string) =>
      stepsOf(sut.react(orderEvent(status), { address }, t0)).map((s) => s.event.type);
    expect(types('created')).toEqual(['kitchen.accepted']);
    expect(types('confirmed')).toEqual(['kitchen.started']);
    expect(types('preparing')).toEqual(['kitchen.ready']);
    expect(types('ready')).toEqual(['courier.assigned', 'courier.picked_up']);
    const delivery = types('out_for_delivery');
    expect(delivery[delivery.length - 1]).toBe('courier.delivered');
    expect(new Set(delivery.slice(0, -1))).toEqual(new Set(['courier.location']));
    expect(sut.react(orderEvent('created'), {}, t0)).toMatchObject({ facts: { address } });
    expect(() => sut.react({ ...orderEvent('created'), data: { order_id: orderId } }, {}, t0)).toThrow(
      /address/,
    );
    expect(sut.react(orderEvent('delivered'), {}, t0)).toEqual({ kind: 'end', status: 'delivered' });
    expect(sut.react(orderEvent('cancelled'), {}, t0)).toEqual({ kind: 'end', status: 'cancelled' });
    expect(sut.react({ ...orderEvent('created'), type: 'product.created' }, {}, t0)).toEqual({
      kind: 'ignore',
    });
    expect(sut.react({ ...orderEvent('created'), subject: undefined }, {}, t0)).toEqual({ kind: 'ignore' });
  });

  it('routes kitchen steps to the kitchen stream and courier steps to couriers', () => {
    for (const status of ['created', 'confirmed', 'preparing', 'ready', 'out_for_delivery']) {
      for (const step of stepsOf(sut.react(orderEvent(status), { address }, t0))) {
        expect(step.stream).toBe(step.event.type.startsWith('kitchen.') ? 'kitchen' : 'couriers');
      }
    }
  });

  it('plans the same steps, ids and due times on every replica, and valid catalog payloads', () => {
    for (const status of ['created', 'ready', 'out_for_delivery']) {
      const a = stepsOf(sut.react(orderEvent(status), { address }, t0));
      const b = stepsOf(createPlanner({ rejectRate: 0 }).react(orderEvent(status), { address }, t0 + 5_000));
      expect(b).toEqual(a);
      for (const step of a) {
        expect(step.event.id).toBe(stepEventId(orderId, step.name));
        expect(eventCatalog.get(step.event.type)!.parse(step.event.data)).toEqual(step.event.data);
      }
    }
    const ids = ['created', 'confirmed', 'preparing', 'ready', 'out_for_delivery'].flatMap((status) =>
      stepsOf(sut.react(orderEvent(status), { address }, t0)).map((s) => s.event.id),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(stepEventId(orderId, 'kitchen.ready')).not.toBe(
      stepEventId(`${orderId.slice(0, -1)}2`, 'kitchen.ready'),
    );
  });

  it('carries the correlation id, the trigger as causation and its trace', () => {
    const [step] = stepsOf(sut.react(orderEvent('confirmed'), { address }, t0));
    expect(step.event).toMatchObject({
      source: 'simulator',
      subject: orderId,
      correlationid: 'corr-1',
      causationid: `evt-confirmed-${orderId}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('counts delays from the event time, within ±25% of the setting, divided by the speed', () => {
    const due = (planner: JourneyPlanner) => stepsOf(planner.react(orderEvent('preparing'), {}, t0))[0].dueAt;
    const normal = due(createPlanner({ cookDelayMs: 8_000 })) - t0;
    expect(normal).toBeGreaterThanOrEqual(6_000);
    expect(normal).toBeLessThanOrEqual(10_000);
    expect(due(createPlanner({ cookDelayMs: 8_000, speed: 10 })) - t0).toBeCloseTo(normal / 10, -1);
  });

  it('moves the courier along the route to the address, a fix every interval, then delivers', () => {
    const planner = createPlanner({ locationIntervalMs: 3_000, courierSpeedMps: 40 });
    const steps = stepsOf(planner.react(orderEvent('out_for_delivery'), { address }, t0));
    const fixes = steps.filter((s) => s.event.type === 'courier.location');
    const positions = fixes.map((f) => CourierLocation.parse(f.event.data));
    const destination = positionFor(address, DEFAULT_JOURNEY_SETTINGS.cityBox);
    expect(positions[positions.length - 1]).toMatchObject({ ...destination, speed_mps: 0 });
    // Each fix is closer to the address than the one before, and the gaps are the interval.
    const left = positions.map((p) => distanceMeters(p, destination));
    for (let i = 1; i < left.length; i++) expect(left[i]).toBeLessThan(left[i - 1]);
    for (let i = 1; i < fixes.length - 1; i++) expect(fixes[i].dueAt - fixes[i - 1].dueAt).toBe(3_000);
    const dues = steps.map((s) => s.dueAt);
    expect([...dues].sort((a, b) => a - b)).toEqual(dues);
    expect(new Set(dues).size).toBe(dues.length);
    expect(steps[steps.length - 1].dueAt).toBeGreaterThan(fixes[fixes.length - 1].dueAt);
  });

  it('keeps due times strictly increasing even at absurd speeds', () => {
    const steps = stepsOf(
      createPlanner({ speed: 100_000 }).react(orderEvent('out_for_delivery'), { address }, t0),
    );
    const dues = steps.map((s) => s.dueAt);
    for (let i = 1; i < dues.length; i++) expect(dues[i]).toBeGreaterThan(dues[i - 1]);
  });

  it('rejects the configured share of orders, always the same ones', () => {
    const planner = createPlanner({ rejectRate: 0.2 });
    const ids = Array.from(
      { length: 2000 },
      (_, i) => `0190f6a4-7c1e-7000-8000-${String(i).padStart(12, '0')}`,
    );
    const rejected = ids.filter((id) => planner.rejects(id));
    expect(rejected.length / ids.length).toBeGreaterThan(0.17);
    expect(rejected.length / ids.length).toBeLessThan(0.23);
    const [one] = rejected;
    const [step] = stepsOf(planner.react(orderEvent('created', one), { address }, t0));
    expect(step.event.type).toBe('kitchen.rejected');
    expect(step.event.data).toMatchObject({ order_id: one, reason: expect.any(String) as unknown });
    expect(createPlanner({ rejectRate: 1 }).rejects(ids[0])).toBe(true);
    expect(createPlanner({ rejectRate: 0 }).rejects(one)).toBe(false);
  });
});
