import { Channels } from '@choreo/contracts';
import { jose } from './jose';

// Signed by the events app when an order is placed (or its token renewed), verified locally by
// notifications on every subscribe and resume: no database call on either side.

/** The audience every tracking token is issued for; a token for another audience is refused. */
export const TRACKING_AUDIENCE = 'choreo-tracking';

export interface TrackingToken {
  token: string;
  channel: string;
  expires_at: string;
}

export interface TrackingClaims {
  orderId: string;
  channel: string;
  expiresAt: Date;
}

/** Signs a short-lived HS256 token that lets its holder follow one order's channel. */
export async function signTrackingToken(
  orderId: string,
  secret: string,
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<TrackingToken> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const channel = Channels.order(orderId);
  const token = await new (jose().SignJWT)({ channel })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(orderId)
    .setAudience(TRACKING_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
  return { token, channel, expires_at: new Date(expiresAt * 1000).toISOString() };
}

/**
 * Verifies a tracking token locally (no database): signature, algorithm, audience and expiry, and
 * that its channel is the order it names. Throws when any of them fails.
 */
export async function verifyTrackingToken(
  token: string,
  secret: string,
  now: Date = new Date(),
): Promise<TrackingClaims> {
  const { payload } = await jose().jwtVerify(token, new TextEncoder().encode(secret), {
    algorithms: ['HS256'],
    audience: TRACKING_AUDIENCE,
    currentDate: now,
    requiredClaims: ['sub', 'exp'],
  });
  const orderId = payload.sub as string;
  if (payload['channel'] !== Channels.order(orderId)) {
    throw new Error(
      `tracking token channel ${String(payload['channel'])} does not match its subject ${orderId}`,
    );
  }
  return { orderId, channel: Channels.order(orderId), expiresAt: new Date((payload.exp as number) * 1000) };
}
