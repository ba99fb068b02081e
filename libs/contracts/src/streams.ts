/** Every stream name of the system, in one place. Apps never write stream names as literals. */
export const Streams = {
  orders: 'orders',
  kitchen: 'kitchen',
  couriers: 'couriers',
  aggregates: 'aggregates',
  deadLetters: 'dead-letters',
  /** Domain events of an entity written on the events path (`/events/:entity`). */
  entityEvents: (entity: string) => `events.${entity}`,
  /** Row changes of a table, captured from the WAL. */
  cdc: (table: string) => `cdc.${table}`,
} as const;

/** The domain stream that outbox events of an aggregate type are routed to. */
export function streamForAggregate(aggregateType: string): string {
  return aggregateType === 'order' ? Streams.orders : Streams.entityEvents(aggregateType);
}
