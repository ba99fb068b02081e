/** An order of the demo run as `GET /orders` returns it (the fields the demo reads). */
export interface DemoOrder {
  id: string;
  status: string;
  created_at: string;
  updated_at: string;
}

/** Where a demo run stands. */
export interface DemoProgress {
  placed: number;
  /** POST /orders answers other than 201 (out of stock, a bad request …) and network failures. */
  refused: number;
  inFlight: number;
  delivered: number;
  cancelled: number;
  /** created → delivered, seconds, over the delivered orders. */
  p50?: number;
  p99?: number;
  max?: number;
}

/** The value below which `q` (0..1) of the sorted values fall (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Tallies the run's orders: delivered and cancelled are done; everything else placed is in flight.
 * A delivered order's `updated_at` is when it was delivered (its last change).
 */
export function tallyProgress(placed: number, refused: number, orders: readonly DemoOrder[]): DemoProgress {
  const byId = new Map(orders.map((o) => [o.id, o]));
  let delivered = 0;
  let cancelled = 0;
  const seconds: number[] = [];
  for (const order of byId.values()) {
    if (order.status === 'delivered') {
      delivered++;
      seconds.push((Date.parse(order.updated_at) - Date.parse(order.created_at)) / 1000);
    } else if (order.status === 'cancelled') cancelled++;
  }
  seconds.sort((a, b) => a - b);
  return {
    placed,
    refused,
    inFlight: placed - delivered - cancelled,
    delivered,
    cancelled,
    p50: percentile(seconds, 0.5),
    p99: percentile(seconds, 0.99),
    max: seconds[seconds.length - 1],
  };
}

const secs = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(1)} s`);

/** One live line: `placed 25 · in flight 18 · delivered 5 · cancelled 2 · created→delivered p50 31.2 s p99 44.0 s`. */
export function progressLine(p: DemoProgress, elapsedSeconds: number): string {
  return (
    `[${elapsedSeconds.toFixed(0).padStart(3)} s] placed ${p.placed} · in flight ${p.inFlight} · ` +
    `delivered ${p.delivered} · cancelled ${p.cancelled}` +
    (p.refused > 0 ? ` · refused ${p.refused}` : '') +
    ` · created→delivered p50 ${secs(p.p50)} p99 ${secs(p.p99)}`
  );
}

/** The closing summary. */
export function summary(
  p: DemoProgress,
  run: { rate: number; duration: number; drainedSeconds: number },
): string {
  const row = (label: string, value: number, note = '') =>
    `  ${label.padEnd(12)}${String(value).padStart(6)}${note ? `   ${note}` : ''}`;
  return [
    `demo summary: ${run.duration} s at ${run.rate} orders/s, then ${run.drainedSeconds.toFixed(0)} s for the last journeys`,
    row('placed', p.placed, p.refused > 0 ? `(${p.refused} more refused)` : ''),
    row('delivered', p.delivered),
    row('cancelled', p.cancelled, '(rejected by the kitchen)'),
    row('in flight', p.inFlight, p.inFlight > 0 ? '(not finished when the demo stopped waiting)' : ''),
    `  created → delivered   p50 ${secs(p.p50)}   p99 ${secs(p.p99)}   max ${secs(p.max)}`,
  ].join('\n');
}
