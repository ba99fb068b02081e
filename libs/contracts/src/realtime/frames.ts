import { z } from 'zod';

/**
 * The real-time wire protocol (WebSocket `/ws?v=1`, SSE `/sse`): JSON text frames, one object each,
 * told apart by `type`. Server and client both parse with these schemas; docs/realtime.md carries
 * the JSON Schema of each frame, generated from them (`realtimeJsonSchemas`).
 */
export const REALTIME_PROTOCOL_VERSION = 1;

/** A request id chosen by the client, echoed on the reply so it can match answers to requests. */
const requestId = z.int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional();
const channel = z.string().min(1).max(256);
/** A position in a channel: the offset of the last publication the client holds, and its epoch. */
export const streamPosition = z.object({
  offset: z.int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Omitted for `order:<id>` channels (their offsets are the order's own sequence, never reused). */
  epoch: z.string().min(1).max(64).optional(),
});
export type StreamPosition = z.infer<typeof streamPosition>;

// ---- client → server -------------------------------------------------------------------------

export const subscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  id: requestId,
  channel,
  /** The order's tracking token (`order:<id>`), or the API bearer token where a channel kind requires one. */
  token: z.string().min(1).max(4096).optional(),
  /** Resume after this position: the server replays what follows it, or sends a snapshot. */
  since: streamPosition.optional(),
});
export const unsubscribeFrame = z.strictObject({ type: z.literal('unsubscribe'), id: requestId, channel });
/** A fresh token for a channel already subscribed: the subscription lives on past the old token's expiry. */
export const refreshFrame = z.strictObject({
  type: z.literal('refresh'),
  id: requestId,
  channel,
  token: z.string().min(1).max(4096),
});
export const clientPingFrame = z.strictObject({ type: z.literal('ping'), id: requestId });
export const clientPongFrame = z.strictObject({ type: z.literal('pong') });

export const clientFrame = z.discriminatedUnion('type', [
  subscribeFrame,
  unsubscribeFrame,
  refreshFrame,
  clientPingFrame,
  clientPongFrame,
]);
export type ClientFrame = z.infer<typeof clientFrame>;
export type SubscribeFrame = z.infer<typeof subscribeFrame>;
export const CLIENT_FRAME_TYPES = ['subscribe', 'unsubscribe', 'refresh', 'ping', 'pong'] as const;

// ---- server → client -------------------------------------------------------------------------

export const connectedFrame = z.object({
  type: z.literal('connected'),
  protocol: z.literal(REALTIME_PROTOCOL_VERSION),
  /** This connection's id, for logs. */
  client: z.string(),
  /** The server sends `ping` this often; answer `pong`. Silence for twice as long closes with 4002. */
  ping_interval_ms: z.int().positive(),
  /** Larger inbound frames are refused (`frame_too_large`). */
  max_frame_bytes: z.int().positive(),
});

export const subscribedFrame = z.object({
  type: z.literal('subscribed'),
  id: requestId,
  channel,
  /** true: every publication after `since` follows as a replay. false: a snapshot follows instead. */
  recovered: z.boolean(),
  /** What comes next on this channel before live publications: `replay` frames or one `snapshot`. */
  follows: z.enum(['replay', 'snapshot']),
  /** The channel's epoch; it changes only when the channel's history was lost. */
  epoch: z.string(),
  /** The position the client holds once what follows is applied. */
  offset: z.int().nonnegative(),
  /** With `follows: replay`: the replay starts after this offset (the `since` given, or 0 for a new order subscription). */
  replay_after: z.int().nonnegative().optional(),
  /** When the token of this subscription expires, where it has one. */
  expires_at: z.string().optional(),
});

/**
 * One event on a channel. `offset` orders a channel's publications: a client applies offset
 * `last + 1` only. State publications (`courier.location`) have a `key` and no offset: the latest
 * wins. `aggregates:<rule>` publications have both: a slow connection may get only the latest value
 * of a key (their offsets then skip the values it replaced).
 */
export const publicationFrame = z.object({
  type: z.literal('publication'),
  channel,
  offset: z.int().nonnegative().optional(),
  epoch: z.string().optional(),
  key: z.string().optional(),
  /** The event type: `order.confirmed`, `courier.location`, `product.updated`, `aggregate.updated` … */
  event: z.string(),
  /** The event id (CloudEvents `id`) behind the publication. */
  id: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown(),
});

/**
 * The channel's state at `offset`, sent after `subscribed` with `recovered: false`. For `order:<id>`
 * it is the order's read model (status and timeline); for `aggregates:<rule>` the latest value of every
 * key; for `entity:<name>` `data` is null: reload the rows from `/crud/<name>`.
 */
export const snapshotFrame = z.object({
  type: z.literal('snapshot'),
  channel,
  epoch: z.string(),
  offset: z.int().nonnegative(),
  data: z.unknown(),
});

export const unsubscribedFrame = z.object({
  type: z.literal('unsubscribed'),
  id: requestId,
  channel,
  /** Why the server ended the subscription itself (`token_expired`); absent when the client asked. */
  reason: z.string().optional(),
});
export const refreshedFrame = z.object({
  type: z.literal('refreshed'),
  id: requestId,
  channel,
  expires_at: z.string(),
});
/** The subscription's token expires soon: send `refresh` with a new one before `expires_at`. */
export const expiringFrame = z.object({ type: z.literal('expiring'), channel, expires_at: z.string() });

export const REALTIME_ERROR_CODES = [
  'bad_frame',
  'binary_frame',
  'frame_too_large',
  'unknown_type',
  'invalid_field',
  'unknown_channel',
  'unauthorized',
  'invalid_token',
  'token_expired',
  'forbidden',
  'too_many_subscriptions',
  'rate_limited',
  'not_subscribed',
  'already_subscribed',
  'unavailable',
] as const;
export type RealtimeErrorCode = (typeof REALTIME_ERROR_CODES)[number];

/** A refused frame. The connection stays open and nothing else changed. */
export const errorFrame = z.object({
  type: z.literal('error'),
  id: requestId,
  code: z.enum(REALTIME_ERROR_CODES),
  message: z.string(),
  channel: channel.optional(),
  /** The field at fault, for `invalid_field`. */
  field: z.string().optional(),
});
export const serverPingFrame = z.object({ type: z.literal('ping') });
export const serverPongFrame = z.object({ type: z.literal('pong'), id: requestId });

export const serverFrame = z.discriminatedUnion('type', [
  connectedFrame,
  subscribedFrame,
  publicationFrame,
  snapshotFrame,
  unsubscribedFrame,
  refreshedFrame,
  expiringFrame,
  errorFrame,
  serverPingFrame,
  serverPongFrame,
]);
export type ServerFrame = z.infer<typeof serverFrame>;
export type ConnectedFrame = z.infer<typeof connectedFrame>;
export type SubscribedFrame = z.infer<typeof subscribedFrame>;
export type PublicationFrame = z.infer<typeof publicationFrame>;
export type SnapshotFrame = z.infer<typeof snapshotFrame>;
export type ErrorFrame = z.infer<typeof errorFrame>;
