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

// A stream entry's `[field, value, …]` list read in place (last value wins, as fieldMap does), so a
// consumer need not build a map per entry to extract its trace context.
const entryGetter: TextMapGetter<readonly string[]> = {
  keys: (entry) => entry.filter((_, i) => i % 2 === 0 && i + 1 < entry.length),
  get: (entry, key) => {
    for (let i = entry.length - (entry.length % 2) - 2; i >= 0; i -= 2) {
      if (entry[i] === key) return entry[i + 1];
    }
    return undefined;
  },
};

/**
 * Reads `traceparent` / `tracestate` from a flat field map, or from a stream entry's
 * `[field, value, …]` list, into a context to run a handler under.
 */
export function extractTraceContext(
  fields: Record<string, string> | readonly string[],
  parent: Context = context.active(),
): Context {
  return Array.isArray(fields)
    ? propagation.extract(parent, fields as readonly string[], entryGetter)
    : propagation.extract(parent, fields as Record<string, string>, getter);
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
