import type { Response } from 'express';
import { correlationIdOf } from '@choreo/observability';

/**
 * The request's correlation id, echoed on the response. Behind the runtime's HTTP middleware the
 * header already holds the resolved id; the same rule applies when the module is mounted alone.
 */
export function correlationOf(given: string | undefined, response: Response): string {
  const correlationId = correlationIdOf(given);
  response.setHeader('X-Correlation-ID', correlationId);
  return correlationId;
}
