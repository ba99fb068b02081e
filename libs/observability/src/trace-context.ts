import { randomFillSync } from 'node:crypto';
import {
  Context,
  context,
  isSpanContextValid,
  propagation,
  TextMapGetter,
  TextMapSetter,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { tracingDisabled } from './tracing';

// Random ids are cut from a pool refilled 4 KiB at a time: one randomBytes call per request cost
// about 30 µs of CPU (two syscalls) on the REST path, more than routing it.
const idPool = Buffer.alloc(4096);
let idPoolOffset = idPool.length;

/** `bytes` random bytes as lower-case hex (W3C trace and span ids). */
function randomHexId(bytes: number): string {
  if (idPoolOffset + bytes > idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  idPoolOffset += bytes;
  return idPool.toString('hex', idPoolOffset - bytes, idPoolOffset);
}

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/**
 * Writes the W3C trace context of `ctx` (the active one by default) into a flat field map as
 * `traceparent` / `tracestate`. Leaves the map untouched when there is no trace context.
 */
export function injectTraceContext(
  fields: Record<string, string>,
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, fields, setter);
  return fields;
}

/** Reads `traceparent` / `tracestate` from a flat field map into a context to run a handler under. */
export function extractTraceContext(
  fields: Record<string, string>,
  parent: Context = context.active(),
): Context {
  return propagation.extract(parent, fields, getter);
}

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * A context that continues the caller's trace (from `carrier`, e.g. HTTP headers) or starts a new
 * one, for work that no instrumentation has given a span. Unsampled: it carries ids, records nothing.
 * When a span is already active (the SDK's instrumentation made one) that context is returned as is.
 */
export function ensureTraceContext(carrier: Record<string, string | string[] | undefined>): Context {
  const active = context.active();
  if (tracingDisabled() || trace.getSpanContext(active)) return active;
  const extracted = propagation.extract(active, carrier, headerGetter);
  const remote = trace.getSpanContext(extracted);
  if (remote && isSpanContextValid(remote)) return extracted;
  return trace.setSpanContext(active, {
    traceId: randomHexId(16),
    spanId: randomHexId(8),
    traceFlags: TraceFlags.NONE,
  });
}
