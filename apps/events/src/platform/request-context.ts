import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { validateWith } from '@choreo/http';
import { correlationIdOf } from '@choreo/observability';

/**
 * The request's correlation id, echoed on the response. Behind the runtime's HTTP middleware the
 * header already holds the resolved id; the same rule applies when the module is mounted alone.
 */
export function correlationOf(given: string | undefined, response: FastifyReply): string {
  const correlationId = correlationIdOf(given);
  void response.header('X-Correlation-ID', correlationId);
  return correlationId;
}

/** The Idempotency-Key header: opaque, printable, bounded. */
const idempotencyHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1..200 printable ASCII characters')
    .optional(),
});

/** The validated Idempotency-Key of a write (400 naming the header when malformed), if any. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  return validateWith(idempotencyHeaders, { 'Idempotency-Key': header }, 'headers')['Idempotency-Key'];
}
