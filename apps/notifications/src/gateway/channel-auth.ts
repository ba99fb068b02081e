import type { ChannelRef, RealtimeErrorCode } from '@choreo/contracts';
import { verifyTrackingToken } from '@choreo/http';
import { timingSafeEqual } from 'node:crypto';

export type AuthVerdict =
  | { ok: true; expiresAt?: number }
  | {
      ok: false;
      code: Extract<RealtimeErrorCode, 'unauthorized' | 'invalid_token' | 'token_expired' | 'forbidden'>;
      message: string;
    };

export interface ChannelAuthOptions {
  /** HMAC secret of the tracking tokens. */
  trackingSecret: string;
  /** Bearer tokens accepted for entity and aggregate channels when they are not public. */
  apiTokens: readonly string[];
  /** Entity and aggregate channels readable without a token (default true). */
  publicChannels: boolean;
}

/**
 * Who may hold a channel. `order:<id>` needs that order's tracking token, verified locally (no
 * database call) on every subscribe, resume and refresh; entity and aggregate channels need the
 * API bearer token only when configured so.
 */
export class ChannelAuth {
  private readonly apiTokens: Buffer[];

  constructor(private readonly options: ChannelAuthOptions) {
    this.apiTokens = options.apiTokens.map((t) => Buffer.from(t));
  }

  async authorize(ref: ChannelRef, token: string | undefined): Promise<AuthVerdict> {
    if (ref.kind !== 'order') {
      if (this.options.publicChannels) return { ok: true };
      if (!token)
        return { ok: false, code: 'unauthorized', message: `${ref.kind} channels need the API bearer token` };
      const given = Buffer.from(token);
      const known = this.apiTokens.some((t) => t.length === given.length && timingSafeEqual(t, given));
      return known
        ? { ok: true }
        : { ok: false, code: 'invalid_token', message: 'the token is not an API token' };
    }
    if (!token)
      return {
        ok: false,
        code: 'unauthorized',
        message: 'order channels need the tracking token from POST /orders',
      };
    try {
      const claims = await verifyTrackingToken(token, this.options.trackingSecret);
      if (claims.orderId !== ref.orderId) {
        return { ok: false, code: 'forbidden', message: 'the tracking token is for another order' };
      }
      return { ok: true, expiresAt: claims.expiresAt.getTime() };
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_JWT_EXPIRED') {
        return {
          ok: false,
          code: 'token_expired',
          message: 'the tracking token has expired: renew it (POST /orders/:id/tracking-token)',
        };
      }
      return { ok: false, code: 'invalid_token', message: 'the tracking token is not valid' };
    }
  }
}
