import { z } from 'zod';
import { configSlice, ConfigError } from '@choreo/config';

/** Development-only secret; refused when NODE_ENV=production, like the dev API token. */
export const DEV_TRACKING_TOKEN_SECRET = 'choreo-dev-tracking-secret-do-not-use-in-production';

const duration = z
  .string()
  .regex(/^\d+(s|m|h)$/, 'must look like 90s, 15m or 1h')
  .transform(
    (value) => Number(value.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[value.slice(-1) as 's' | 'm' | 'h'],
  );

/** Settings of the order tracking tokens (signed with HS256, verified by notifications). */
export const trackingConfig = configSlice(
  () => ({
    TRACKING_TOKEN_SECRET: z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .describe('HMAC secret (32+ characters) for order tracking tokens'),
    TRACKING_TOKEN_TTL: duration.default(15 * 60).describe('token lifetime such as 90s, 15m or 1h'),
    NODE_ENV: z.string().optional(),
  }),
  (env) => {
    if (!env.TRACKING_TOKEN_SECRET && env.NODE_ENV === 'production') {
      throw new ConfigError([
        { variable: 'TRACKING_TOKEN_SECRET', problem: 'must be set when NODE_ENV=production' },
      ]);
    }
    return {
      secret: env.TRACKING_TOKEN_SECRET ?? DEV_TRACKING_TOKEN_SECRET,
      ttlSeconds: env.TRACKING_TOKEN_TTL,
    };
  },
);

export interface TrackingOptions {
  secret: string;
  ttlSeconds: number;
}
