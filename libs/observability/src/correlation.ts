import { randomUUID } from 'node:crypto';
import { Context, context, createContextKey, trace } from '@opentelemetry/api';
import { installContextManager } from './context-manager';

const CORRELATION = createContextKey('choreo.correlationid');
const VALID_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's correlation id when well-formed (1–128 of `[A-Za-z0-9_.:-]`), else a new one. */
export function correlationIdOf(given: string | undefined): string {
  return given && VALID_CORRELATION_ID.test(given) ? given : randomUUID();
}

/**
 * `ctx` carrying `correlationId` as well. The id lives in the OpenTelemetry context beside the
 * trace, not in an AsyncLocalStorage of its own: each active AsyncLocalStorage costs every promise
 * a request creates a propagation step (about 30-70 µs per REST write, profiled).
 */
export function withCorrelation(correlationId: string | undefined, ctx: Context = context.active()): Context {
  installContextManager();
  return correlationId ? ctx.setValue(CORRELATION, correlationId) : ctx;
}

/** Runs `work` with `correlationId` attached to every log line it writes. */
export function runWithCorrelation<T>(correlationId: string | undefined, work: () => T): T {
  return correlationId ? context.with(withCorrelation(correlationId), work) : work();
}

/** The correlation id of the request or event being handled, if any. */
export function currentCorrelationId(): string | undefined {
  return context.active().getValue(CORRELATION) as string | undefined;
}

/** Fields every log line carries: the correlation id and the active trace and span ids. */
export function logContext(): Record<string, string> {
  const fields: Record<string, string> = {};
  const active = context.active();
  const correlationId = active.getValue(CORRELATION) as string | undefined;
  if (correlationId) fields['correlationid'] = correlationId;
  const span = trace.getSpan(active)?.spanContext();
  if (span && span.traceId !== '00000000000000000000000000000000') {
    fields['trace_id'] = span.traceId;
    fields['span_id'] = span.spanId;
  }
  return fields;
}
