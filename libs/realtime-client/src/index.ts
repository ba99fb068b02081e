export { RealtimeClient } from './realtime-client';
export type { ConnectionState, RealtimeClientOptions } from './realtime-client';
export { Subscription } from './subscription';
export type { SubscribeOptions, SubscriptionHandlers, SubscriptionState } from './subscription';
export type { WebSocketConstructor, WebSocketLike } from './websocket-like';
export { renewTrackingToken } from './tracking-token';
