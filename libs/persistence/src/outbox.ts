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
  const [event] = await recordOutboxEvents(client, [input], source);
  return event;
}

/** Records several events as recordOutboxEvent does, in one statement (in this order in the WAL). */
export async function recordOutboxEvents<T>(
  client: Queryable,
  inputs: readonly OutboxEventInput<T>[],
  source = 'events',
): Promise<EventEnvelope<T>[]> {
  if (inputs.length === 0) return [];
  const trace = injectTraceContext({});
  const events = inputs.map(
    (input): EventEnvelope<T> => ({
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
    }),
  );
  const messages = events.map((event, i) => encodeOutboxMessage({ aggregate: inputs[i].aggregate, event }));
  await client.query(
    inputs.length === 1
      ? 'select pg_logical_emit_message(true, $1, $2::text)'
      : 'select pg_logical_emit_message(true, $1, m) from unnest($2::text[]) with ordinality as t(m, n) order by n',
    [OUTBOX_MESSAGE_PREFIX, inputs.length === 1 ? messages[0] : messages],
  );
  return events;
}
