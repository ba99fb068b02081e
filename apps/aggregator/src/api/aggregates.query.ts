import { z } from 'zod';

const instant = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });

/** `GET /aggregates/:rule` query: unknown parameters are refused by name. */
export const windowsQuery = z
  .object({
    key: z.string().min(1).optional().describe('the group value (one groupBy field) or a JSON array of them'),
    from: instant.optional().describe('windows starting at or after this instant'),
    to: instant.optional().describe('windows starting before this instant'),
    final: z.enum(['true', 'false']).optional().describe('only final (true) or only open (false) windows'),
    limit: z.coerce.number().int().min(1).max(1000).default(100).describe('at most this many, newest kept'),
  })
  .strict();
export type WindowsQuery = z.output<typeof windowsQuery>;

/** `GET /aggregates/:rule/late` query. */
export const lateQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();
