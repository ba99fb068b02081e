import { z } from 'zod';
import {
  clientPingFrame,
  clientPongFrame,
  connectedFrame,
  errorFrame,
  expiringFrame,
  publicationFrame,
  refreshedFrame,
  refreshFrame,
  serverPingFrame,
  serverPongFrame,
  snapshotFrame,
  subscribedFrame,
  subscribeFrame,
  unsubscribedFrame,
  unsubscribeFrame,
} from './frames';

const frames = {
  client: {
    subscribe: subscribeFrame,
    unsubscribe: unsubscribeFrame,
    refresh: refreshFrame,
    ping: clientPingFrame,
    pong: clientPongFrame,
  },
  server: {
    connected: connectedFrame,
    subscribed: subscribedFrame,
    publication: publicationFrame,
    snapshot: snapshotFrame,
    unsubscribed: unsubscribedFrame,
    refreshed: refreshedFrame,
    expiring: expiringFrame,
    error: errorFrame,
    ping: serverPingFrame,
    pong: serverPongFrame,
  },
};

/** The JSON Schema (draft 2020-12) of every frame, by direction and type: what docs/realtime.schema.json holds. */
export function realtimeJsonSchemas(): Record<'client' | 'server', Record<string, unknown>> {
  const render = (group: Record<string, z.ZodType>) =>
    Object.fromEntries(Object.entries(group).map(([type, schema]) => [type, z.toJSONSchema(schema)]));
  return { client: render(frames.client), server: render(frames.server) };
}
