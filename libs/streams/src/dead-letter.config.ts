import { z } from 'zod';
import { configSlice } from '@choreo/config';

const DAY_MS = 86_400_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS } as const;

const retentionWindow = z
  .string()
  .regex(/^(0|[1-9]\d{0,5}(m|h|d))$/, 'must look like 14d, 36h or 90m (0: keep forever)')
  .transform((text) => (text === '0' ? 0 : Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as 'm']));

/**
 * Retention of `dead-letters` (docs/streams.md § Dead-letter retention): age deletes, length only
 * alarms. Read by the app that owns the retention (events).
 */
export const deadLetterConfig = configSlice(
  () => ({
    DEAD_LETTER_RETENTION: retentionWindow
      .prefault('14d')
      .describe('how long a dead letter is kept, such as 14d, 36h or 90m; 0 keeps them forever'),
    DEAD_LETTER_ALERT_LENGTH: z.coerce
      .number()
      .int()
      .min(0)
      .max(100_000_000)
      .default(10_000)
      .describe('entries past which dead-letters is reported as over its bound (never deleted); 0: no bound'),
  }),
  (env) => ({ maxAgeMs: env.DEAD_LETTER_RETENTION, alertLength: env.DEAD_LETTER_ALERT_LENGTH }),
);

export type DeadLetterConfig = ReturnType<typeof deadLetterConfig.build>;
