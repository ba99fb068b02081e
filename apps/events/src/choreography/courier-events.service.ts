import { Injectable, Logger } from '@nestjs/common';
import {
  ConsumerGroups,
  CourierDelivered,
  CourierPickedUp,
  EventEnvelope,
  KitchenAccepted,
  KitchenReady,
  KitchenRejected,
  KitchenStarted,
  OrderStatus,
} from '@choreo/contracts';
import { Database, claimInboxEvent } from '@choreo/persistence';
import { planTransition } from '../orders/order-state-machine';
import { OrdersRepository } from '../orders/orders.repository';
import { ordersMetrics } from '../orders/orders.metrics';
import { OrdersService } from '../orders/orders.service';

/** The consumer group, and the inbox consumer name, of the events app on the `kitchen` and `couriers` streams. */
export const EVENTS_GROUP = ConsumerGroups.events;

interface OrderDrivingEvent {
  definition: { parse(data: unknown): { order_id: string; courier_id?: string; reason?: string } };
  target: OrderStatus;
}

/** How each kitchen and courier event moves an order; events not listed here change no order. */
const DRIVES: Readonly<Record<string, OrderDrivingEvent>> = {
  [KitchenAccepted.type]: { definition: KitchenAccepted, target: 'confirmed' },
  [KitchenRejected.type]: { definition: KitchenRejected, target: 'cancelled' },
  [KitchenStarted.type]: { definition: KitchenStarted, target: 'preparing' },
  [KitchenReady.type]: { definition: KitchenReady, target: 'ready' },
  [CourierPickedUp.type]: { definition: CourierPickedUp, target: 'out_for_delivery' },
  [CourierDelivered.type]: { definition: CourierDelivered, target: 'delivered' },
};

/** The event types that drive order transitions, for the stream handlers to subscribe to. */
export const ORDER_DRIVING_EVENTS: readonly string[] = Object.keys(DRIVES);

export type CourierEventOutcome =
  /** The order moved and `order.<status>` was recorded. */
  | { outcome: 'applied'; status: OrderStatus; sequence: number; eventId: string }
  /** This event id was applied before: a redelivery, nothing changed. */
  | { outcome: 'duplicate' }
  /** The order is already at or past the target, or finished: a late event, recorded and ignored. */
  | { outcome: 'stale'; status: OrderStatus }
  /** The event type moves no order. */
  | { outcome: 'ignored' };

@Injectable()
export class CourierEventsService {
  private readonly logger = new Logger(CourierEventsService.name);

  constructor(
    private readonly database: Database,
    private readonly orders: OrdersRepository,
    private readonly ordersService: OrdersService,
  ) {}

  /**
   * Applies a kitchen or courier event to its order in one transaction: claim the event id in the inbox,
   * move the order, record `order.<status>` caused by the event. A redelivered event finds its id in the
   * inbox and changes nothing. A jump the lifecycle forbids throws (and rolls the claim back), so the
   * transport retries it and finally dead-letters it; a bad payload throws EventDataError the same way.
   */
  async applyCourierEvent(event: EventEnvelope): Promise<CourierEventOutcome> {
    try {
      const outcome = await this.apply(event);
      ordersMetrics().consumed.inc({ type: event.type, outcome: outcome.outcome });
      if (outcome.outcome === 'applied')
        ordersMetrics().transitions.inc({ status: outcome.status, trigger: 'event' });
      return outcome;
    } catch (error) {
      ordersMetrics().consumed.inc({ type: event.type, outcome: 'failed' });
      throw error;
    }
  }

  private async apply(event: EventEnvelope): Promise<CourierEventOutcome> {
    const drive = Object.prototype.hasOwnProperty.call(DRIVES, event.type) ? DRIVES[event.type] : undefined;
    if (!drive) return { outcome: 'ignored' };
    const data = drive.definition.parse(event.data);
    const target = drive.target;
    const outcome = await this.database.transaction(async (client): Promise<CourierEventOutcome> => {
      if (!(await claimInboxEvent(client, EVENTS_GROUP, event.id))) return { outcome: 'duplicate' };
      const current = await this.orders.lockOrder(client, data.order_id);
      if (current && planTransition(current.status, target) === 'skip') {
        return { outcome: 'stale', status: current.status };
      }
      // A missing order or a forbidden jump throws here, rolling the inbox claim back with it.
      const applied = await this.ordersService.applyTransition(client, data.order_id, target, {
        causedBy: event,
        reason: data.reason,
        courierId: data.courier_id,
      });
      return {
        outcome: 'applied',
        status: applied.status,
        sequence: applied.sequence,
        eventId: applied.event.id,
      };
    });
    if (outcome.outcome !== 'applied') {
      this.logger.log(
        `${event.type} ${event.id} for order ${data.order_id}: ${outcome.outcome}, nothing changed`,
      );
    }
    return outcome;
  }
}
