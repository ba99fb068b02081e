import { z } from 'zod';
import { configSlice, urlWithScheme } from '@choreo/config';
import { DEFAULT_LIMITS, RealtimeLimits } from './gateway/gateway-context';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Settings of the real-time edge: limits, heartbeats, who may read which channels. */
export const realtimeConfig = configSlice(
  () => ({
    REALTIME_PUBLIC_CHANNELS: flag
      .default(true)
      .describe('true: entity and aggregate channels need no token'),
    REALTIME_ALLOWED_ORIGINS: z
      .string()
      .default('')
      .describe('comma-separated Origin values allowed to open /ws and /sse; empty allows any'),
    REALTIME_PING_INTERVAL_MS: positive(DEFAULT_LIMITS.pingIntervalMs).describe('milliseconds between pings'),
    REALTIME_MAX_FRAME_BYTES: positive(DEFAULT_LIMITS.maxFrameBytes).describe('largest inbound frame'),
    REALTIME_MAX_SUBSCRIPTIONS: positive(DEFAULT_LIMITS.maxSubscriptions).describe(
      'subscriptions per connection',
    ),
    REALTIME_SUBSCRIBE_RATE: positive(DEFAULT_LIMITS.subscribeRatePerSecond).describe(
      'subscribes per second per connection',
    ),
    REALTIME_SEND_QUEUE_BYTES: positive(DEFAULT_LIMITS.sendQueue.maxBytes).describe(
      'bytes queued per connection before 4001',
    ),
    REALTIME_SEND_QUEUE_FRAMES: positive(DEFAULT_LIMITS.sendQueue.maxFrames).describe(
      'frames queued per connection before 4001',
    ),
    REALTIME_TOKEN_NOTICE_MS: positive(DEFAULT_LIMITS.tokenNoticeMs).describe(
      'expiring notice before a token expires',
    ),
  }),
  (env) => ({
    publicChannels: env.REALTIME_PUBLIC_CHANNELS,
    allowedOrigins: env.REALTIME_ALLOWED_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    limits: {
      ...DEFAULT_LIMITS,
      pingIntervalMs: env.REALTIME_PING_INTERVAL_MS,
      maxFrameBytes: env.REALTIME_MAX_FRAME_BYTES,
      maxSubscriptions: env.REALTIME_MAX_SUBSCRIPTIONS,
      subscribeRatePerSecond: env.REALTIME_SUBSCRIBE_RATE,
      subscribeBurst: Math.max(env.REALTIME_SUBSCRIBE_RATE, DEFAULT_LIMITS.subscribeBurst),
      sendQueue: { maxBytes: env.REALTIME_SEND_QUEUE_BYTES, maxFrames: env.REALTIME_SEND_QUEUE_FRAMES },
      tokenNoticeMs: env.REALTIME_TOKEN_NOTICE_MS,
    } satisfies RealtimeLimits,
  }),
);

/** The read model's store: MongoDB when MONGODB_URL is set, PostgreSQL otherwise. */
export const mongoConfig = configSlice(
  () => ({
    MONGODB_URL: urlWithScheme('mongodb', 'mongodb+srv').optional().describe('mongodb://host:port/database'),
  }),
  (env) => ({ url: env.MONGODB_URL }),
);
