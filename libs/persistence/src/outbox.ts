import { v7 as uuidv7 } from 'uuid';
import {
  CLOUDEVENTS_SPEC_VERSION,
  encodeOutboxMessage,
  OUTBOX_MESSAGE_PREFIX,
  type EventEnvelope,
} from '@choreo/contracts';
import { injectTraceContext } from '@choreo/observability';
import type { Queryable } from './database';

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
    specversion: CLOUDEVENTS_SPEC_VERSION,
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
  await client.query('select pg_logical_emit_message(true, $1, $2::text)', [
    OUTBOX_MESSAGE_PREFIX,
    encodeOutboxMessage({ aggregate: input.aggregate, event }),
  ]);
  return event;
}
