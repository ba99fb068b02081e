import type { Logger } from 'pino';
import type { ChannelHub } from '../channels/channel-hub';
import type { ChannelSubscription, SubscriptionStats } from '../channels/channel-subscription';
import type { ChannelSync } from '../channels/channel-sync';
import type { SendQueueLimits } from '../channels/send-queue';
import type { ChannelAuth } from './channel-auth';
import type { RealtimeConnection } from './realtime-connection';
import type { RealtimeMetrics } from './realtime-metrics';
import type { TickWrites } from './tick-writes';

export interface RealtimeLimits {
  /** Inbound frames larger than this get `frame_too_large` (default 64 KiB). */
  maxFrameBytes: number;
  /** Subscriptions a connection may hold (default 100). */
  maxSubscriptions: number;
  /** Subscribes a second, sustained, and the burst allowed (defaults 20 and 50). */
  subscribeRatePerSecond: number;
  subscribeBurst: number;
  /** Bytes the socket may hold before frames wait in the send queue (default 64 KiB). */
  socketHighWater: number;
  sendQueue: SendQueueLimits;
  /** Application ping interval; two silent intervals close with 4002 (default 25 s). */
  pingIntervalMs: number;
  /** `expiring` is sent this long before a subscription's token expires (default 60 s). */
  tokenNoticeMs: number;
}

export const DEFAULT_LIMITS: RealtimeLimits = {
  maxFrameBytes: 64 * 1024,
  maxSubscriptions: 100,
  subscribeRatePerSecond: 20,
  subscribeBurst: 50,
  socketHighWater: 64 * 1024,
  sendQueue: { maxBytes: 1024 * 1024, maxFrames: 2000 },
  pingIntervalMs: 25_000,
  tokenNoticeMs: 60_000,
};

/** What every connection of a replica shares. */
export interface GatewayContext {
  limits: RealtimeLimits;
  metrics: RealtimeMetrics;
  hub: ChannelHub;
  sync: ChannelSync;
  auth: ChannelAuth;
  log: Logger;
  subscriptionStats: SubscriptionStats;
  /** Connections with frames waiting in their send queue. */
  draining: Set<RealtimeConnection>;
  /** One write per socket per tick. */
  writes: TickWrites;
  onSubscribed(connection: RealtimeConnection, sub: ChannelSubscription): void;
  onUnsubscribed(connection: RealtimeConnection, sub: ChannelSubscription): void;
}
