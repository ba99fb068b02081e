import { Injectable, Logger } from '@nestjs/common';
import { EventEnvelope, OrderCreated } from '@choreo/contracts';
import { JourneyPlanner } from '../journey/journey-planner';
import { JourneyStore } from '../schedule/journey-store';
import { StepDispatcher } from '../schedule/step-dispatcher';

/** What an order event did to its journey. */
export type JourneyOutcome =
  | { outcome: 'scheduled' | 'duplicate' | 'ended'; steps: number }
  | { outcome: 'stopped'; dropped: number }
  | { outcome: 'ignored' };

/** Reacts to order events: plans the next phase of the order's journey and schedules it in Redis. */
@Injectable()
export class JourneyService {
  private readonly logger = new Logger(JourneyService.name);

  constructor(
    private readonly planner: JourneyPlanner,
    private readonly store: JourneyStore,
    private readonly dispatcher: StepDispatcher,
  ) {}

  async onOrderEvent(event: EventEnvelope, now = Date.now()): Promise<JourneyOutcome> {
    const orderId = event.subject;
    const facts = orderId && !OrderCreated.is(event.type) ? await this.store.facts(orderId) : {};
    const reaction = this.planner.react(event, facts, now);
    if (reaction.kind === 'ignore' || !orderId) return { outcome: 'ignored' };
    if (reaction.kind === 'end') {
      const dropped = await this.store.end(orderId, reaction.status);
      if (dropped > 0)
        this.logger.log(`order ${orderId} ${reaction.status}: journey stopped, ${dropped} steps dropped`);
      return { outcome: 'stopped', dropped };
    }
    const outcome = await this.store.schedule(orderId, reaction.phase, reaction.steps, reaction.facts, now);
    if (outcome === 'scheduled') this.dispatcher.poke();
    else
      this.logger.log(`${event.type} ${event.id} for order ${orderId}: phase ${outcome}, nothing scheduled`);
    return { outcome, steps: outcome === 'scheduled' ? reaction.steps.length : 0 };
  }
}
