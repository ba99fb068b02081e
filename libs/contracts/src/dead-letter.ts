/**
 * The dead-letter wire format: the fields a dead letter adds to the entry it keeps whole. Written by
 * the streams consumer and the cdc-relay, read by the dlq CLI and operators (`XRANGE dead-letters - +`).
 */

/** The fields a dead letter adds to the original entry's fields, flat so that XRANGE reads well. */
export const DEAD_LETTER_FIELDS = [
  'dlq_stream',
  'dlq_id',
  'dlq_group',
  'dlq_consumer',
  'dlq_attempts',
  'dlq_error',
  'dlq_failed_at',
] as const;

/** Where an entry failed and why. */
export interface DeadLetterOrigin {
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  attempts: number;
  error: string;
}

const MAX_ERROR_LENGTH = 2_000;

/**
 * The fields of a dead letter: every original field, then the `dlq_*` fields. `dlq_*` fields of an
 * earlier dead-lettering (a replayed entry that failed again) are replaced, not repeated.
 */
export function deadLetterFields(
  originalFields: readonly string[],
  origin: DeadLetterOrigin,
  failedAt: Date = new Date(),
): string[] {
  const fields: string[] = [];
  for (let i = 0; i + 1 < originalFields.length; i += 2) {
    if (!originalFields[i].startsWith('dlq_')) fields.push(originalFields[i], originalFields[i + 1]);
  }
  const error =
    origin.error.length > MAX_ERROR_LENGTH ? `${origin.error.slice(0, MAX_ERROR_LENGTH)}…` : origin.error;
  fields.push(
    'dlq_stream',
    origin.stream,
    'dlq_id',
    origin.entryId,
    'dlq_group',
    origin.group,
    'dlq_consumer',
    origin.consumer,
    'dlq_attempts',
    String(origin.attempts),
    'dlq_error',
    error,
    'dlq_failed_at',
    failedAt.toISOString(),
  );
  return fields;
}

/** The original fields of a dead letter, without the `dlq_*` ones. */
export function originalFields(deadLetter: readonly string[]): string[] {
  const fields: string[] = [];
  for (let i = 0; i + 1 < deadLetter.length; i += 2) {
    if (!deadLetter[i].startsWith('dlq_')) fields.push(deadLetter[i], deadLetter[i + 1]);
  }
  return fields;
}
