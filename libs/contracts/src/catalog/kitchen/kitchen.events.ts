import { z } from 'zod';
import { defineEvent } from '../event-definition';

// The kitchen (the simulator today) reports on the `kitchen` stream; subject is the order id.
const kitchenStep = z.object({
  order_id: z.uuid(),
  kitchen_id: z.string().min(1).optional(),
});

/** The kitchen took the order: drives `created → confirmed`. */
export const KitchenAccepted = defineEvent('kitchen.accepted', 1, kitchenStep);
/** The kitchen refused the order: drives a cancel (restock). */
export const KitchenRejected = defineEvent(
  'kitchen.rejected',
  1,
  kitchenStep.extend({ reason: z.string().min(1) }),
);
/** Cooking began: drives `confirmed → preparing`. */
export const KitchenStarted = defineEvent('kitchen.started', 1, kitchenStep);
/** The food is ready for pick-up: drives `preparing → ready`. */
export const KitchenReady = defineEvent('kitchen.ready', 1, kitchenStep);

export const kitchenEvents = [KitchenAccepted, KitchenRejected, KitchenStarted, KitchenReady] as const;
