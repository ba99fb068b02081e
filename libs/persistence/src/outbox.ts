import { v7 as uuidv7 } from 'uuid';
import type { EventEnvelope } from '@choreo/contracts';
import { injectTraceContext } from '@choreo/observability';
import type { Queryable } from './database';

/** The logical decoding message prefix the cdc-relay routes to the domain streams. */
export const OUTBOX_MESSAGE_PREFIX = 'choreo.outbox';

/** What one outbox message carries: the aggregate type (routes the stream) and the full envelope. */
export interface OutboxMessage<T = unknown> {
  /** `order`, or an entity name; `streamForAggregate(aggregate)` names the stream. */
  aggregate: string;
  event: EventEnvelope<T>;
}

/** An event to record; the writer fills in id, source, time and the trace context. */
export interface OutboxEventInput<T> {
  aggregate: string;
  type: string;
  subject: string;
  data: T;
  sequence?: number;
  correlationid?: string;
  causationid?: string;
}

/**
 * Records an event in the current transaction's WAL as a transactional logical decoding message
 * (`pg_logical_emit_message(true, 'choreo.outbox', …)`): it becomes visible to logical decoding only if,
 * and exactly when, the surrounding transaction commits, so a business write and its event commit
 * together or not at all, and there is no outbox table to clean up. Returns the recorded envelope.
 */
export async function recordOutboxEvent<T>(
  client: Queryable,
  input: OutboxEventInput<T>,
  source = 'events',
): Promise<EventEnvelope<T>> {
  const trace = injectTraceContext({});
  const event: EventEnvelope<T> = {
    id: uuidv7(),
    type: input.type,
    source,
    subject: input.subject,
    time: new Date().toISOString(),
    ...(input.sequence !== undefined && { sequence: input.sequence }),
    ...(input.correlationid !== undefined && { correlationid: input.correlationid }),
    ...(input.causationid !== undefined && { causationid: input.causationid }),
    ...(trace['traceparent'] !== undefined && { traceparent: trace['traceparent'] }),
    ...(trace['tracestate'] !== undefined && { tracestate: trace['tracestate'] }),
    datacontenttype: 'application/json',
    data: input.data,
  };
  const message: OutboxMessage<T> = { aggregate: input.aggregate, event };
  await client.query('select pg_logical_emit_message(true, $1, $2::text)', [
    OUTBOX_MESSAGE_PREFIX,
    JSON.stringify(message),
  ]);
  return event;
}

/** Parses the content of a `choreo.outbox` message (for the relay and for tests reading the WAL). */
export function parseOutboxMessage(content: string): OutboxMessage {
  const parsed = JSON.parse(content) as Partial<OutboxMessage>;
  if (typeof parsed.aggregate !== 'string' || typeof parsed.event !== 'object' || parsed.event === null) {
    throw new Error(`not a ${OUTBOX_MESSAGE_PREFIX} message: ${content.slice(0, 200)}`);
  }
  return parsed as OutboxMessage;
}
