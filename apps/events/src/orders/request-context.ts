import type { Response } from 'express';
import { randomUUID } from 'node:crypto';

// The same rule as the runtime's HTTP middleware, so a module mounted without it behaves the same.
const VALID_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Correlation-ID when well-formed, else a new one; echoed on the response. */
export function correlationOf(given: string | undefined, response: Response): string {
  const correlationId = given && VALID_CORRELATION_ID.test(given) ? given : randomUUID();
  response.setHeader('X-Correlation-ID', correlationId);
  return correlationId;
}
