// TEMPORARY until the lead's groundwork lands (Channels, parseChannel, ConsumerGroups in contracts;
// tracking tokens in @choreo/http). Deleted on rebase.
import { jwtVerify } from 'jose';
import { z } from 'zod';
import { configSlice } from '@choreo/config';

export type ChannelRef =
  | { kind: 'order'; orderId: string }
  | { kind: 'entity'; entity: string }
  | { kind: 'aggregates'; rule: string };
export const Channels = {
  order: (id: string) => `order:${id}`,
  entity: (name: string) => `entity:${name}`,
  aggregates: (rule: string) => `aggregates:${rule}`,
};
export const ConsumerGroups = { notifications: 'notifications' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function parseChannel(text: string): ChannelRef {
  const [kind, name, extra] = text.split(':');
  if (extra === undefined && name) {
    if (kind === 'order' && UUID.test(name)) return { kind, orderId: name };
    if (kind === 'entity' && /^[a-z][a-z0-9_]*$/.test(name)) return { kind, entity: name };
    if (kind === 'aggregates' && /^[a-z][a-z0-9_-]*$/.test(name)) return { kind, rule: name };
  }
  throw new Error(`unknown channel ${JSON.stringify(text)}`);
}
export async function verifyTrackingToken(token: string, secret: string) {
  const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
    algorithms: ['HS256'],
    audience: 'choreo-tracking',
    requiredClaims: ['sub', 'exp'],
  });
  return { orderId: payload.sub as string, expiresAt: new Date((payload.exp as number) * 1000) };
}
export const trackingConfig = configSlice(
  { TRACKING_TOKEN_SECRET: z.string().min(32).optional() },
  (env) => ({
    secret: env.TRACKING_TOKEN_SECRET ?? 'choreo-dev-tracking-secret-do-not-use-in-production',
    ttlSeconds: 900,
  }),
);
