/** Every stream name of the system, in one place. Apps never write stream names as literals. */
export const Streams = {
  orders: 'orders',
  /** Kitchen steps of an order (accepted, rejected, started, ready). */
  kitchen: 'kitchen',
  couriers: 'couriers',
  aggregates: 'aggregates',
  deadLetters: 'dead-letters',
  /** Domain events of an entity written on the events path (`/events/:entity`). */
  entityEvents: (entity: string) => `events.${entity}`,
  /** Row changes of a table, captured from the WAL. */
  cdc: (table: string) => `cdc.${table}`,
} as const;

/** The domain stream that outbox events of an aggregate type are routed to (`aggregate`: the aggregator's results). */
export function streamForAggregate(aggregateType: string): string {
  if (aggregateType === 'order') return Streams.orders;
  if (aggregateType === 'aggregate') return Streams.aggregates;
  return Streams.entityEvents(aggregateType);
}

/** The consumer group of every app that consumes streams (one group per app; replicas share it). */
export const ConsumerGroups = {
  /** events: kitchen and courier steps move orders. */
  events: 'events',
  /** aggregator: windowed aggregates over domain and `cdc.*` streams. */
  aggregator: 'aggregator',
  /** notifications: fans events out to WebSocket and SSE channels. */
  notifications: 'notifications',
  /** simulator: plays a kitchen and courier journey for each new order. */
  simulator: 'simulator',
} as const;

export type ConsumerGroup = (typeof ConsumerGroups)[keyof typeof ConsumerGroups];
