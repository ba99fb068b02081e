import type { OrderSnapshotSource } from '../channels/channel-sync';

/** One order event as the read model keeps it. */
export interface TimelineEvent {
  orderId: string;
  sequence: number;
  /** `order.created`, `order.confirmed` … */
  event: string;
  /** The event id (CloudEvents `id`). */
  id: string;
  time: string;
  data: unknown;
}

/** What a snapshot of `order:<id>` carries: the order's status and its timeline up to `sequence`. */
export interface OrderView {
  order_id: string;
  status: string;
  sequence: number;
  timeline: { sequence: number; event: string; id: string; time: string; data: unknown }[];
}

/**
 * applied: the event was the order's next; duplicate: already held; gap: its predecessor is missing
 * (the stream entry stays pending and is retried after it). `sequence`: the order's sequence after.
 */
export interface ApplyResult {
  outcome: 'applied' | 'duplicate' | 'gap';
  sequence: number;
}

/**
 * The notifications read model: each order's current state and timeline, kept from the events,
 * idempotent by sequence (an event is applied only as the order's next one). PostgreSQL by default,
 * MongoDB when MONGODB_URL is set; order-timeline.contract.ts holds the spec every store passes.
 */
export interface OrderTimelineStore extends OrderSnapshotSource {
  /** Creates tables or indexes (idempotent, safe for replicas starting together). */
  init(): Promise<void>;
  apply(event: TimelineEvent): Promise<ApplyResult>;
  orderSnapshot(orderId: string): Promise<{ sequence: number; data: OrderView } | undefined>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The status an event leaves the order in: the part after `order.`. */
export function statusOf(event: string): string {
  return event.startsWith('order.') ? event.slice('order.'.length) : event;
}
