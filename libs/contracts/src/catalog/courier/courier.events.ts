import { z } from 'zod';
import { defineEvent, EventData } from '../event-definition';

// Published by couriers (the simulator today) on the `couriers` stream; subject is the order id.
const courierStep = z.object({
  order_id: z.uuid(),
  courier_id: z.string().min(1),
});

/** A courier took the delivery job (no order status change). */
export const CourierAssigned = defineEvent('courier.assigned', 1, courierStep);
/** The courier collected the food: drives `ready → out_for_delivery`. */
export const CourierPickedUp = defineEvent('courier.picked_up', 1, courierStep);
/** A position fix while delivering (no order status change). */
export const CourierLocation = defineEvent(
  'courier.location',
  1,
  courierStep.extend({
    lat: z.number().min(-90).max(90),
    lng: z.number().min(-180).max(180),
    heading: z.number().min(0).max(360).optional(),
    speed_mps: z.number().min(0).optional(),
  }),
);
/** The courier handed the food over: drives `out_for_delivery → delivered`. */
export const CourierDelivered = defineEvent('courier.delivered', 1, courierStep);

export type CourierLocationData = EventData<typeof CourierLocation>;

export const courierEvents = [CourierAssigned, CourierPickedUp, CourierLocation, CourierDelivered] as const;
