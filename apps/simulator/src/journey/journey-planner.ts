import { EventEnvelope, OrderCreated, OrderStatus } from '@choreo/contracts';
import { v5 as uuidv5 } from 'uuid';
import { centreOf, positionFor, Route, seededUnit } from './geo';
import type { JourneySettings } from './journey-settings';

/** One step of a journey, ready to publish once due: the envelope without its `time`. */
export interface ScheduledStep {
  /** Unique within the journey: `kitchen.accepted`, `courier.location.3`. */
  name: string;
  /** Where the step's event goes. */
  stream: string;
  /** When it is due, epoch milliseconds. */
  dueAt: number;
  event: Omit<EventEnvelope<Record<string, unknown>>, 'time'>;
}

/** The order statuses that start a phase of the journey, and what each phase publishes. */
export type PhaseTrigger = Extract<
  OrderStatus,
  'created' | 'confirmed' | 'preparing' | 'ready' | 'out_for_delivery'
>;

/** What the simulator does with one event of the `orders` stream. */
export type JourneyReaction =
  /** Schedule these steps; `facts` are to be remembered for the later phases. */
  | { kind: 'schedule'; phase: PhaseTrigger; steps: ScheduledStep[]; facts?: JourneyFacts }
  | { kind: 'end'; status: 'delivered' | 'cancelled' }
  | { kind: 'ignore' };

/** The streams kitchen and courier events go to (names from @choreo/contracts). */
export interface JourneyStreams {
  kitchen: string;
  couriers: string;
}

/** What the simulator remembers of an order between phases. */
export interface JourneyFacts {
  /** The delivery address, from order.created. */
  address?: string;
}

// Fixed namespace of the simulator's deterministic event ids (UUIDv5 of `<order id>/<step name>`).
const STEP_ID_NAMESPACE = '5b1f3c7e-2d4a-5e8f-9a0b-c1d2e3f4a5b6';
const MAX_LOCATION_FIXES = 120;
const REJECT_REASONS = ['the kitchen is at capacity', 'an ingredient ran out', 'the kitchen is closing'];

/** The event id of a step: the same on every replica and after every restart. */
export function stepEventId(orderId: string, stepName: string): string {
  return uuidv5(`${orderId}/${stepName}`, STEP_ID_NAMESPACE);
}

/**
 * The journey of an order as a pure function of the order's events: each lifecycle event starts the
 * next phase (order.created → the kitchen accepts or rejects; confirmed → cooking starts; preparing →
 * ready; ready → a courier is assigned and picks up; out_for_delivery → location fixes along the route,
 * then delivered). Phases wait for the order to really move, so no step ever races ahead of the state
 * it needs. Every choice is seeded by the order id: replicas and restarts plan the same steps, with
 * the same event ids and due times (counted from the triggering event's time).
 */
export class JourneyPlanner {
  constructor(
    private readonly settings: JourneySettings,
    private readonly streams: JourneyStreams,
  ) {}

  react(trigger: EventEnvelope, facts: JourneyFacts, now: number): JourneyReaction {
    const orderId = trigger.subject;
    if (!orderId || !trigger.type.startsWith('order.')) return { kind: 'ignore' };
    const status = trigger.type.slice('order.'.length);
    if (status === 'delivered' || status === 'cancelled') return { kind: 'end', status };
    const start = Number.isFinite(Date.parse(trigger.time)) ? Date.parse(trigger.time) : now;
    const step = this.stepMaker(trigger, orderId);
    const kitchen = { order_id: orderId, kitchen_id: this.settings.kitchenId };
    switch (status) {
      case 'created': {
        const { address } = OrderCreated.parse(trigger.data);
        const due = start + this.delay(this.settings.acceptDelayMs, orderId, 'accept');
        if (this.rejects(orderId)) {
          const reason = REJECT_REASONS[Math.floor(seededUnit(`reason:${orderId}`) * REJECT_REASONS.length)];
          return this.phase(
            'created',
            [step('kitchen.rejected', this.streams.kitchen, due, { ...kitchen, reason })],
            {
              address,
            },
          );
        }
        return this.phase('created', [step('kitchen.accepted', this.streams.kitchen, due, kitchen)], {
          address,
        });
      }
      case 'confirmed':
        return this.phase('confirmed', [
          step(
            'kitchen.started',
            this.streams.kitchen,
            start + this.delay(this.settings.startDelayMs, orderId, 'start'),
            kitchen,
          ),
        ]);
      case 'preparing':
        return this.phase('preparing', [
          step(
            'kitchen.ready',
            this.streams.kitchen,
            start + this.delay(this.settings.cookDelayMs, orderId, 'cook'),
            kitchen,
          ),
        ]);
      case 'ready': {
        const courier = { order_id: orderId, courier_id: this.courierOf(orderId) };
        const assigned = start + this.delay(this.settings.assignDelayMs, orderId, 'assign');
        const pickedUp = assigned + this.delay(this.settings.pickupDelayMs, orderId, 'pickup');
        return this.phase('ready', [
          step('courier.assigned', this.streams.couriers, assigned, courier),
          step('courier.picked_up', this.streams.couriers, pickedUp, courier),
        ]);
      }
      case 'out_for_delivery':
        return this.phase('out_for_delivery', this.delivery(orderId, facts, start, step));
      default:
        return { kind: 'ignore' };
    }
  }

  /** True when the kitchen rejects this order (a fixed share, chosen by the order id). */
  rejects(orderId: string): boolean {
    return seededUnit(`reject:${orderId}`) < this.settings.rejectRate;
  }

  courierOf(orderId: string): string {
    return `courier-${1 + Math.floor(seededUnit(`courier:${orderId}`) * this.settings.couriers)}`;
  }

  // Location fixes from the kitchen to the address every interval, one on arrival, then the hand-over.
  private delivery(orderId: string, facts: JourneyFacts, start: number, step: StepMaker): ScheduledStep[] {
    const { settings } = this;
    const route = new Route(
      centreOf(settings.cityBox),
      positionFor(facts.address ?? orderId, settings.cityBox),
    );
    const speedMps = settings.courierSpeedMps * (0.8 + 0.4 * seededUnit(`traffic:${orderId}`));
    const travelMs = ((route.meters / speedMps) * 1000) / settings.speed;
    const intervalMs = Math.max(settings.locationIntervalMs / settings.speed, travelMs / MAX_LOCATION_FIXES);
    const courier = { order_id: orderId, courier_id: this.courierOf(orderId) };
    const fixAt = (index: number, elapsedMs: number) => {
      const at = route.at(travelMs === 0 ? route.meters : (route.meters * elapsedMs) / travelMs);
      const moving = elapsedMs < travelMs;
      return step(`courier.location.${index}`, this.streams.couriers, start + elapsedMs, {
        ...courier,
        lat: at.lat,
        lng: at.lng,
        heading: at.heading,
        speed_mps: moving ? Math.round(speedMps * 10) / 10 : 0,
      });
    };
    const steps: ScheduledStep[] = [];
    let index = 0;
    for (let elapsed = 0; elapsed < travelMs; elapsed += intervalMs) steps.push(fixAt(index++, elapsed));
    steps.push(fixAt(index, travelMs));
    const delivered = start + travelMs + this.delay(settings.handoverDelayMs, orderId, 'handover');
    steps.push(step('courier.delivered', this.streams.couriers, delivered, courier));
    return steps;
  }

  // Due times strictly increase within a phase: the schedule orders equal scores by member name, which
  // would put courier.delivered before the last courier.location fix.
  private phase(phase: PhaseTrigger, steps: ScheduledStep[], facts?: JourneyFacts): JourneyReaction {
    steps.forEach((step, i) => {
      if (i > 0) step.dueAt = Math.max(step.dueAt, steps[i - 1].dueAt + 1);
    });
    return facts ? { kind: 'schedule', phase, steps, facts } : { kind: 'schedule', phase, steps };
  }

  // Each delay varies by ±25% per order (seeded), so a demo shows a spread of delivery times.
  private delay(baseMs: number, orderId: string, what: string): number {
    return (baseMs * (0.75 + 0.5 * seededUnit(`${what}:${orderId}`))) / this.settings.speed;
  }

  private stepMaker(trigger: EventEnvelope, orderId: string): StepMaker {
    return (name, stream, dueAt, data) => {
      const type = name.startsWith('courier.location.') ? 'courier.location' : name;
      const event: ScheduledStep['event'] = {
        id: stepEventId(orderId, name),
        type,
        source: 'simulator',
        subject: orderId,
        correlationid: trigger.correlationid,
        causationid: trigger.id,
        data,
      };
      // The step continues the trace of the order event that caused it.
      if (trigger.traceparent !== undefined) event.traceparent = trigger.traceparent;
      if (trigger.tracestate !== undefined) event.tracestate = trigger.tracestate;
      return { name, stream, dueAt: Math.round(dueAt), event };
    };
  }
}

type StepMaker = (
  name: string,
  stream: string,
  dueAt: number,
  data: Record<string, unknown>,
) => ScheduledStep;
