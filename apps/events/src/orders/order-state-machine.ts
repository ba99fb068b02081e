import { ORDER_STATUSES, type OrderStatus } from '@choreo/contracts';

// The lifecycle as an adjacency list: the only moves an order may make from each status.
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  created: ['confirmed', 'cancelled'],
  confirmed: ['preparing', 'cancelled'],
  preparing: ['ready', 'cancelled'],
  ready: ['out_for_delivery', 'cancelled'],
  out_for_delivery: ['delivered'],
  delivered: [],
  cancelled: [],
};

// Position along the happy path (the contracts' order, `cancelled` last); lets a consumer tell a stale
// event (behind the order) from a jump.
const progress = (status: OrderStatus): number => ORDER_STATUSES.indexOf(status);

/** The REST verbs of `POST /orders/:id/<action>` and the status each one moves to. */
export const ORDER_ACTIONS = {
  confirm: 'confirmed',
  prepare: 'preparing',
  ready: 'ready',
  dispatch: 'out_for_delivery',
  deliver: 'delivered',
  cancel: 'cancelled',
} as const satisfies Record<string, OrderStatus>;
export type OrderAction = keyof typeof ORDER_ACTIONS;

export function isOrderAction(value: string): value is OrderAction {
  return Object.prototype.hasOwnProperty.call(ORDER_ACTIONS, value);
}

/** The statuses an order in `status` may move to next. */
export function allowedNextStatuses(status: OrderStatus): readonly OrderStatus[] {
  return TRANSITIONS[status];
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: OrderStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/**
 * What an event that wants to move an order to `target` should do, given the order's `current` status:
 * `apply` a legal move; `skip` when the order is already there, past it or finished (a late or replayed
 * event: at least once delivery makes these normal); `reject` a jump the lifecycle does not allow.
 */
export function planTransition(current: OrderStatus, target: OrderStatus): 'apply' | 'skip' | 'reject' {
  if (canTransition(current, target)) return 'apply';
  if (current === target || isTerminal(current) || progress(current) > progress(target)) return 'skip';
  return 'reject';
}
