/**
 * Renews an order's tracking token with the still-valid one (`POST /orders/:id/tracking-token` on
 * the events app), for RealtimeClientOptions.refreshToken. Uses the platform's fetch.
 */
export async function renewTrackingToken(eventsUrl: string, orderId: string, token: string): Promise<string> {
  const response = await fetch(
    `${eventsUrl.replace(/\/$/, '')}/orders/${encodeURIComponent(orderId)}/tracking-token`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    },
  );
  if (!response.ok) throw new Error(`tracking token renewal failed: HTTP ${response.status}`);
  const body = (await response.json()) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error('tracking token renewal answered without a token');
  return body.token;
}
