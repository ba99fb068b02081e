import { Context, context, propagation, TextMapGetter, TextMapSetter } from '@opentelemetry/api';

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
 * `traceparent` / `tracestate`. Leaves the map untouched when there is no recording span.
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
