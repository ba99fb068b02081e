import type { FastifyReply } from 'fastify';
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
