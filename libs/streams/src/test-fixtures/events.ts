import type { EventEnvelope } from '@choreo/contracts';
import { v7 as uuidv7 } from 'uuid';

/** An order event as producers write it; each call a fresh event id unless one is given. */
export function orderEvent(
  type: string,
  data: Record<string, unknown> = {},
  id: string = uuidv7(),
): EventEnvelope<Record<string, unknown>> {
  return {
    id,
    type,
    source: 'test',
    subject: String(data['orderId'] ?? 'order-1'),
    time: new Date().toISOString(),
    data,
  };
}
