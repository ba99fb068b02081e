import { z } from 'zod';
import type { EventEnvelope } from './envelope';

/**
 * The transactional outbox's wire format: what the events path writes with
 * `pg_logical_emit_message(true, 'choreo.outbox', <json>)` and what the cdc-relay reads from the WAL.
 */
export const OUTBOX_MESSAGE_PREFIX = 'choreo.outbox';

const optionalText = z.string().min(1).optional();

/** One outbox message: the aggregate type (routes the stream) and the full envelope. */
export const outboxMessageSchema = z.object({
  /** `order`, or an entity name; `streamForAggregate(aggregate)` names the stream. */
  aggregate: z.string().min(1),
  event: z.object({
    specversion: z.literal('1.0').optional(),
    id: z.string().min(1),
    type: z.string().min(1),
    source: z.string().min(1),
    subject: optionalText,
    time: optionalText,
    sequence: z.number().int().nonnegative().optional(),
    correlationid: optionalText,
    causationid: optionalText,
    traceparent: optionalText,
    tracestate: optionalText,
    datacontenttype: z.literal('application/json').optional(),
    data: z.unknown().refine((value) => value !== undefined, 'is required'),
  }),
});

/** What one outbox message carries, as the writer builds it. */
export interface OutboxMessage<T = unknown> {
  aggregate: string;
  event: EventEnvelope<T>;
}

/** The message content the writer passes to `pg_logical_emit_message`. */
export function encodeOutboxMessage(message: OutboxMessage): string {
  return JSON.stringify(message);
}

/**
 * Reads an outbox message's content: the message, or the problem that makes it unreadable (which
 * names the path at fault), since a bad message must be reported, never thrown past the reader.
 */
export function readOutboxMessage(
  content: string,
):
  | { ok: true; message: z.infer<typeof outboxMessageSchema> }
  | { ok: false; problem: string; aggregate?: string } {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  const parsed = outboxMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const aggregate = (json as { aggregate?: unknown } | null)?.aggregate;
  return {
    ok: false,
    problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    ...(typeof aggregate === 'string' && aggregate !== '' && { aggregate }),
  };
}

/** Parses an outbox message's content, throwing on a bad one (for tests reading the WAL). */
export function parseOutboxMessage(content: string): OutboxMessage {
  const read = readOutboxMessage(content);
  if (!read.ok)
    throw new Error(`not a ${OUTBOX_MESSAGE_PREFIX} message (${read.problem}): ${content.slice(0, 200)}`);
  return read.message as OutboxMessage;
}
