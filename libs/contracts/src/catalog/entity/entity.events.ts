import { z } from 'zod';

/** The row operations that `/events/:entity` records as `<entity>.<operation>`. */
export const ENTITY_OPERATIONS = ['created', 'updated', 'deleted'] as const;
export type EntityOperation = (typeof ENTITY_OPERATIONS)[number];

/**
 * Payload of `<entity>.created|updated|deleted` (stream `events.<entity>`, subject the row id):
 * the row after the write (`before` too for updates and deletes), as the entity's JSON.
 */
export const entityEventData = z.object({
  entity: z.string().min(1),
  id: z.string().min(1),
  operation: z.enum(ENTITY_OPERATIONS),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
});
export type EntityEventData = z.infer<typeof entityEventData>;

/** The event type of an entity row operation: `product.created`. */
export function entityEventType(entity: string, operation: EntityOperation): string {
  return `${entity}.${operation}`;
}
