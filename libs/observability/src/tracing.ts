import { diag, DiagConsoleLogger, DiagLogLevel, propagation } from '@opentelemetry/api';
// The propagator's own module, not @opentelemetry/core's index: the index also loads the semantic
// conventions and the rest of core (about 1 MB of heap and 3 MB RSS in every app), and only the
// propagator is needed without the SDK. core is pinned (package.json), so the path cannot move.
import { W3CTraceContextPropagator } from '@opentelemetry/core/build/src/trace/W3CTraceContextPropagator';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { installContextManager } from './context-manager';

let sdk: NodeSDK | undefined;
let started = false;
let tracingOff = false;

/** Whether OTEL_SDK_DISABLED switched trace context off: no trace ids are made or continued. */
export function tracingDisabled(): boolean {
  return tracingOff;
}

/**
 * Starts tracing. Call it before anything imports `pg` or `ioredis` (each app's `instrument.ts`,
 * imported first by `main.ts`).
 *
 * With OTEL_EXPORTER_OTLP_ENDPOINT set: the OpenTelemetry Node SDK with HTTP, pg and ioredis
 * instrumentation, spans exported over OTLP/HTTP.
 *
 * Without it: no SDK and no instrumentation (measured at about 250 µs of CPU per REST request here,
 * for spans nobody would see). The SDK's modules are not even loaded then: they are `require`d
 * below only when an endpoint is set, which keeps an idle app's RSS down (`npm run bench:footprint`
 * measures both). The W3C propagator and the context manager are installed either way, so trace
 * context still flows: the runtime's HTTP hooks continue a caller's `traceparent` (or start
 * one), stream handlers continue the event's, and every log line carries that trace id.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (started) return;
  started = true;
  const contextManager = installContextManager();
  if (env['OTEL_SDK_DISABLED'] === 'true') {
    tracingOff = true;
    return;
  }
  if (env['OTEL_LOG_LEVEL'] === 'debug') diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.DEBUG);
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT']) {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return;
  }
  sdk = startSdk(serviceName, env, contextManager);
}

/**
 * The OpenTelemetry Node SDK with the OTLP/HTTP exporter and the HTTP, pg and ioredis
 * instrumentations. Loaded synchronously (require, not import()) so that the instrumentations hook
 * `pg` and `ioredis` before the app's modules load them.
 */
function startSdk(
  serviceName: string,
  env: NodeJS.ProcessEnv,
  contextManager: ReturnType<typeof installContextManager>,
): NodeSDK {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const started = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? serviceName,
    contextManager,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(livez|readyz|metrics)/.test(req.url ?? ''),
      }),
      new PgInstrumentation(),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
    // Metrics go to Prometheus through prom-client, logs through pino: no OTel exporters for either.
    metricReaders: [],
    logRecordProcessors: [],
  });
  started.start();
  return started;
}

/** Flushes and stops tracing (on shutdown). */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
