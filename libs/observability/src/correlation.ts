import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';

const correlation = new AsyncLocalStorage<string>();
const VALID_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's correlation id when well-formed (1–128 of `[A-Za-z0-9_.:-]`), else a new one. */
export function correlationIdOf(given: string | undefined): string {
  return given && VALID_CORRELATION_ID.test(given) ? given : randomUUID();
}

/** Runs `work` with `correlationId` attached to every log line it writes. */
export function runWithCorrelation<T>(correlationId: string | undefined, work: () => T): T {
  return correlationId ? correlation.run(correlationId, work) : work();
}

/** The correlation id of the request or event being handled, if any. */
export function currentCorrelationId(): string | undefined {
  return correlation.getStore();
}

/** Fields every log line carries: the correlation id and the active trace and span ids. */
export function logContext(): Record<string, string> {
  const fields: Record<string, string> = {};
  const correlationId = correlation.getStore();
  if (correlationId) fields['correlationid'] = correlationId;
  const span = trace.getActiveSpan()?.spanContext();
  if (span && span.traceId !== '00000000000000000000000000000000') {
    fields['trace_id'] = span.traceId;
    fields['span_id'] = span.spanId;
  }
  return fields;
}
