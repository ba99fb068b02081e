import { z } from 'zod';
import { orderStatus } from '@choreo/contracts';

/** Body of `POST /orders`. */
export const placeOrderBody = z
  .strictObject({
    customer: z.string().trim().min(1).max(200),
    address: z.string().trim().min(1).max(500),
    items: z
      .array(z.strictObject({ product_id: z.uuid(), quantity: z.int().min(1).max(10_000) }))
      .min(1)
      .max(100),
  })
  .superRefine((body, ctx) => {
    const seen = new Map<string, number>();
    body.items.forEach((item, index) => {
      const first = seen.get(item.product_id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', index, 'product_id'],
          message: `repeats items[${first}]; give one line per product with its total quantity`,
        });
      } else seen.set(item.product_id, index);
    });
  });
export type PlaceOrderBody = z.infer<typeof placeOrderBody>;

/** Query of `GET /orders`. */
export const listOrdersQuery = z.strictObject({
  status: orderStatus.optional(),
  customer: z.string().min(1).optional(),
  before: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListOrdersQuery = z.infer<typeof listOrdersQuery>;

/** Optional body of a lifecycle action (only `cancel` reads a reason). */
export const orderActionBody = z
  .strictObject({ reason: z.string().trim().min(1).max(500).optional() })
  .optional()
  .transform((body) => body ?? {});

export const orderIdParams = z.object({ id: z.uuid() });
