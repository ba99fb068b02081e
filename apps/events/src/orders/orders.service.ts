import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { EventEnvelope, OrderCreated, OrderLine, OrderStatus, OrderStatusEvents } from '@choreo/contracts';
import {
  Database,
  IdempotencyKeyReusedError,
  Tx,
  recordOutboxEvent,
  withIdempotency,
} from '@choreo/persistence';
import { signTrackingToken, type TrackingOptions, type TrackingToken } from '@choreo/http';
import { allowedNextStatuses, canTransition } from './order-state-machine';
import {
  illegalTransition,
  OrderError,
  insufficientStock,
  orderNotFound,
  unknownProduct,
} from './orders.errors';
import { ordersMetrics } from './orders.metrics';
import { Order, OrderFilter, OrdersRepository } from './orders.repository';
import type { PlaceOrderBody } from './order.dto';

export const TRACKING_OPTIONS = Symbol('TRACKING_OPTIONS');

/** Outbox aggregate type of orders: routed to the `orders` stream. */
export const ORDER_AGGREGATE = 'order';

export interface WriteContext {
  correlationId: string;
  idempotencyKey?: string;
}

export interface PlacedOrder {
  order: Order;
  tracking: TrackingToken;
  eventId: string;
  /** True when an Idempotency-Key replay returned the stored order and nothing was written. */
  replayed: boolean;
}

/** What caused a transition: a REST call, or a consumed event (its id becomes the causation id). */
export interface TransitionCause {
  correlationId?: string;
  causedBy?: EventEnvelope;
  reason?: string;
  courierId?: string;
}

export interface AppliedTransition {
  previous: OrderStatus;
  status: OrderStatus;
  sequence: number;
  event: EventEnvelope;
}

@Injectable()
export class OrdersService {
  constructor(
    private readonly database: Database,
    private readonly orders: OrdersRepository,
    @Inject(TRACKING_OPTIONS) private readonly tracking: TrackingOptions,
  ) {}

  /**
   * Places an order in one transaction: reserve and price each line, insert the order and its lines,
   * record `order.created`. Any short line rolls everything back. With an Idempotency-Key, a retry of
   * the same request returns the stored order; the tracking token is always fresh (never stored).
   */
  async placeOrder(body: PlaceOrderBody, context: WriteContext): Promise<PlacedOrder> {
    const written = await this.writeOrder(body, context).catch((error: unknown) => {
      if (error instanceof OrderError) ordersMetrics().placed.inc({ outcome: error.code });
      if (error instanceof IdempotencyKeyReusedError) ordersMetrics().placed.inc({ outcome: error.error });
      throw error;
    });
    ordersMetrics().placed.inc({ outcome: written.replayed ? 'replayed' : 'created' });
    const tracking = await signTrackingToken(
      written.order.id,
      this.tracking.secret,
      this.tracking.ttlSeconds,
    );
    return { ...written, tracking };
  }

  private writeOrder(body: PlaceOrderBody, context: WriteContext): Promise<Omit<PlacedOrder, 'tracking'>> {
    return this.database.transaction(async (client) => {
      const request = { key: context.idempotencyKey, method: 'POST', path: '/orders', body };
      const { response, replayed } = await withIdempotency(client, request, async () => {
        const order = await this.insertOrder(client, body);
        const event = await recordOutboxEvent(client, {
          aggregate: ORDER_AGGREGATE,
          type: OrderCreated.type,
          subject: order.id,
          sequence: order.sequence,
          correlationid: context.correlationId,
          data: OrderCreated.parse({
            order_id: order.id,
            status: 'created',
            customer: order.customer,
            address: order.address,
            items: order.items,
            total: order.total,
          }),
        });
        return { statusCode: 201, body: order, headers: { 'x-event-id': event.id } };
      });
      return { order: response.body, eventId: response.headers?.['x-event-id'] ?? '', replayed };
    });
  }

  private async insertOrder(client: Tx, body: PlaceOrderBody): Promise<Order> {
    const lines = await this.reserveLines(client, body.items);
    return this.orders.insertOrder(client, {
      id: uuidv7(),
      customer: body.customer,
      address: body.address,
      items: lines,
    });
  }

  // Lines are reserved in product id order: two orders sharing products then lock the rows in the
  // same order and cannot deadlock.
  private async reserveLines(client: Tx, items: PlaceOrderBody['items']): Promise<OrderLine[]> {
    const indexed = items.map((item, index) => ({ ...item, index }));
    indexed.sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0));
    const lines: OrderLine[] = [];
    for (const item of indexed) {
      const reserved = await this.orders.reserveStock(client, item.product_id, item.quantity);
      if (!reserved) {
        const available = await this.orders.stockOf(client, item.product_id);
        if (available === undefined) throw unknownProduct(item.product_id, item.index);
        throw insufficientStock(item.product_id, item.quantity, available);
      }
      lines.push({ product_id: item.product_id, quantity: item.quantity, ...reserved });
    }
    return lines;
  }

  async getOrder(orderId: string): Promise<Order> {
    const order = await this.orders.findOrder(this.database, orderId);
    if (!order) throw orderNotFound(orderId);
    return order;
  }

  async listOrders(filter: OrderFilter): Promise<{ items: Order[]; next: string | null }> {
    const items = await this.orders.listOrders(this.database, filter);
    return { items, next: items.length === filter.limit ? items[items.length - 1].id : null };
  }

  /** A REST lifecycle action: the transition and its event in one transaction; returns the order. */
  async moveOrder(
    orderId: string,
    target: OrderStatus,
    cause: TransitionCause,
  ): Promise<{ order: Order; eventId: string }> {
    const moved = await this.database.transaction(async (client) => {
      const applied = await this.applyTransition(client, orderId, target, cause);
      const order = await this.orders.findOrder(client, orderId);
      return { order: order as Order, eventId: applied.event.id };
    });
    ordersMetrics().transitions.inc({ status: target, trigger: 'api' });
    return moved;
  }

  /**
   * Moves a locked order to `target` inside the caller's transaction: checks the state machine, bumps
   * the sequence, restocks on cancel and records `order.<target>`. An illegal move throws and the
   * caller's rollback leaves everything as it was.
   */
  async applyTransition(
    client: Tx,
    orderId: string,
    target: OrderStatus,
    cause: TransitionCause,
  ): Promise<AppliedTransition> {
    const current = await this.orders.lockOrder(client, orderId);
    if (!current) throw orderNotFound(orderId);
    if (!canTransition(current.status, target)) {
      throw illegalTransition(orderId, current.status, target, allowedNextStatuses(current.status));
    }
    const sequence = await this.orders.setStatus(client, orderId, target);
    const change: Record<string, unknown> = {
      order_id: orderId,
      status: target,
      previous_status: current.status,
      trigger: cause.causedBy?.type ?? 'api',
    };
    if (target === 'cancelled') {
      // Items come back in product id order, the same lock order as reservations.
      const items = await this.orders.itemsOf(client, orderId);
      for (const item of items) await this.orders.restock(client, item.product_id, item.quantity);
      change['restocked'] = items.map((i) => ({ product_id: i.product_id, quantity: i.quantity }));
      if (cause.reason !== undefined) change['reason'] = cause.reason;
    }
    if ((target === 'out_for_delivery' || target === 'delivered') && cause.courierId !== undefined) {
      change['courier_id'] = cause.courierId;
    }
    const definition = OrderStatusEvents[target];
    const event = await recordOutboxEvent(client, {
      aggregate: ORDER_AGGREGATE,
      type: definition.type,
      subject: orderId,
      sequence,
      correlationid: cause.correlationId ?? cause.causedBy?.correlationid,
      causationid: cause.causedBy?.id,
      data: definition.parse(change),
    });
    return { previous: current.status, status: target, sequence, event };
  }
}
