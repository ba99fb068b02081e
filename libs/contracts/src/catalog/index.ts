import { aggregateEvents } from './aggregate/aggregate.events';
import { courierEvents } from './courier/courier.events';
import { EventDataError, EventDefinition } from './event-definition';
import { kitchenEvents } from './kitchen/kitchen.events';
import { orderEvents } from './order/order.events';

export * from './event-definition';
export * from './order/order.events';
export * from './kitchen/kitchen.events';
export * from './courier/courier.events';
export * from './entity/entity.events';
export * from './aggregate/aggregate.events';

/** Every fixed-type event of the v1 catalog, by type (entity events are per entity: see entityEventData). */
export const eventCatalog: ReadonlyMap<string, EventDefinition> = new Map(
  [...orderEvents, ...kitchenEvents, ...courierEvents, ...aggregateEvents].map((d) => [
    d.type,
    d as EventDefinition,
  ]),
);

/** Validates an event's data against its catalog definition; throws EventDataError for unknown types too. */
export function parseEventData(type: string, data: unknown): unknown {
  const definition = eventCatalog.get(type);
  if (!definition) throw new EventDataError(type, [{ path: 'type', message: 'is not in the event catalog' }]);
  return definition.parse(data);
}
