import { z } from 'zod';
import { decimalAmount, defineEvent, EventData } from '../event-definition';

/** The happy path, in order: the statuses an order passes through to `delivered`. */
export const ORDER_LIFECYCLE = [
  'created',
  'confirmed',
  'preparing',
  'ready',
  'out_for_delivery',
  'delivered',
] as const;

/** Every status, in lifecycle order. `cancelled` is reachable from any state before `out_for_delivery`. */
export const ORDER_STATUSES = [...ORDER_LIFECYCLE, 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const orderStatus = z.enum(ORDER_STATUSES);

/** Statuses an order never leaves. */
export const FINAL_ORDER_STATUSES = ['delivered', 'cancelled'] as const satisfies readonly OrderStatus[];

export const orderLine = z.object({
  product_id: z.uuid(),
  name: z.string(),
  quantity: z.int().positive(),
  unit_price: decimalAmount,
  line_total: decimalAmount,
});
export type OrderLine = z.infer<typeof orderLine>;

/** An order was placed: stock is reserved and the lines are priced. Subject: the order id; sequence 1. */
export const OrderCreated = defineEvent(
  'order.created',
  1,
  z.object({
    order_id: z.uuid(),
    status: z.literal('created'),
    customer: z.string().min(1),
    address: z.string().min(1),
    items: z.array(orderLine).min(1),
    total: decimalAmount,
  }),
);
export type OrderCreatedData = EventData<typeof OrderCreated>;

const statusChange = <S extends Exclude<OrderStatus, 'created'>>(status: S) =>
  z.object({
    order_id: z.uuid(),
    status: z.literal(status),
    previous_status: orderStatus,
    /** What moved the order: `api` (a REST call) or the type of the event that caused it. */
    trigger: z.string().min(1),
  });

export const OrderConfirmed = defineEvent('order.confirmed', 1, statusChange('confirmed'));
export const OrderPreparing = defineEvent('order.preparing', 1, statusChange('preparing'));
export const OrderReady = defineEvent('order.ready', 1, statusChange('ready'));
export const OrderOutForDelivery = defineEvent(
  'order.out_for_delivery',
  1,
  statusChange('out_for_delivery').extend({ courier_id: z.string().min(1).optional() }),
);
export const OrderDelivered = defineEvent(
  'order.delivered',
  1,
  statusChange('delivered').extend({ courier_id: z.string().min(1).optional() }),
);
/** Cancelled; the reserved stock went back to the products in the same transaction. */
export const OrderCancelled = defineEvent(
  'order.cancelled',
  1,
  statusChange('cancelled').extend({
    reason: z.string().optional(),
    restocked: z.array(z.object({ product_id: z.uuid(), quantity: z.int().positive() })),
  }),
);

export type OrderStatusChangedData =
  | EventData<typeof OrderConfirmed>
  | EventData<typeof OrderPreparing>
  | EventData<typeof OrderReady>
  | EventData<typeof OrderOutForDelivery>
  | EventData<typeof OrderDelivered>
  | EventData<typeof OrderCancelled>;

/** The event recorded when an order enters each status. */
export const OrderStatusEvents = {
  created: OrderCreated,
  confirmed: OrderConfirmed,
  preparing: OrderPreparing,
  ready: OrderReady,
  out_for_delivery: OrderOutForDelivery,
  delivered: OrderDelivered,
  cancelled: OrderCancelled,
} as const satisfies Record<OrderStatus, { type: `order.${OrderStatus}` }>;

export const orderEvents = [
  OrderCreated,
  OrderConfirmed,
  OrderPreparing,
  OrderReady,
  OrderOutForDelivery,
  OrderDelivered,
  OrderCancelled,
] as const;
