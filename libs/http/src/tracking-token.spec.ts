import { loadConfig } from '@choreo/config';
import { signTrackingToken, verifyTrackingToken } from './tracking-token';
import { trackingConfig } from './tracking.config';

const secret = 'a-test-secret-that-is-long-enough-123';
const orderId = '0190f6a4-7c1e-7000-8000-000000000001';

describe('tracking tokens', () => {
  it('round-trips the order channel and expiry', async () => {
    const now = new Date('2026-11-22T00:00:00Z');
    const issued = await signTrackingToken(orderId, secret, 900, now);
    expect(issued.channel).toBe(`order:${orderId}`);
    expect(issued.expires_at).toBe('2026-11-22T00:15:00.000Z');
    const claims = await verifyTrackingToken(issued.token, secret, new Date('2026-11-22T00:14:59Z'));
    expect(claims).toEqual({
      orderId,
      channel: `order:${orderId}`,
      expiresAt: new Date('2026-11-22T00:15:00Z'),
    });
  });

  it('refuses an expired token, a wrong secret and a tampered payload', async () => {
    const now = new Date('2026-11-22T00:00:00Z');
    const { token } = await signTrackingToken(orderId, secret, 60, now);
    await expect(verifyTrackingToken(token, secret, new Date('2026-11-22T00:01:01Z'))).rejects.toThrow(/exp/);
    await expect(verifyTrackingToken(token, `${secret}x`, now)).rejects.toThrow(/signature/);
    const [header, payload, signature] = token.split('.');
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    forged['sub'] = '0190f6a4-7c1e-7000-8000-000000000002';
    const tampered = [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    await expect(verifyTrackingToken(tampered, secret, now)).rejects.toThrow(/signature/);
  });

  it('reads its settings from the environment and refuses the dev secret in production', () => {
    expect(loadConfig({ tracking: trackingConfig }, { TRACKING_TOKEN_TTL: '90s' }).tracking.ttlSeconds).toBe(
      90,
    );
    expect(loadConfig({ tracking: trackingConfig }, {}).tracking.ttlSeconds).toBe(900);
    expect(() => loadConfig({ tracking: trackingConfig }, { TRACKING_TOKEN_SECRET: 'short' })).toThrow(
      /TRACKING_TOKEN_SECRET: must be at least 32 characters/,
    );
    expect(() => loadConfig({ tracking: trackingConfig }, { NODE_ENV: 'production' })).toThrow(
      /TRACKING_TOKEN_SECRET: must be set when NODE_ENV=production/,
    );
  });
});
