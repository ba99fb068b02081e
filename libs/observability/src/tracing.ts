import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, BatchSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

let sdk: NodeSDK | undefined;

/**
 * Keeps spans in-process only. The SDK installs a tracer provider only when it has a span processor,
 * and without one spans carry no ids: logs would lose their trace ids and streams their traceparent.
 */
class DiscardingSpanProcessor implements SpanProcessor {
  onStart(): void {
    // nothing to record
  }
  onEnd(): void {
    // nothing to export
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Starts OpenTelemetry with HTTP, pg and ioredis instrumentation. Call it before anything imports
 * `pg` or `ioredis` (each app's `instrument.ts`, imported first by `main.ts`).
 *
 * Spans are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Otherwise nothing is sampled: the
 * spans cost next to nothing but still carry ids, so logs keep their trace ids and `traceparent`
 * still travels through the streams (with the sampled flag off).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk || env['OTEL_SDK_DISABLED'] === 'true') return;
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (env['OTEL_LOG_LEVEL'] === 'debug') diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.DEBUG);
  sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? serviceName,
    ...(endpoint ? {} : { sampler: new AlwaysOffSampler() }),
    spanProcessors: [
      endpoint ? new BatchSpanProcessor(new OTLPTraceExporter()) : new DiscardingSpanProcessor(),
    ],
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
  sdk.start();
}

/** Flushes and stops tracing (on shutdown). */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
