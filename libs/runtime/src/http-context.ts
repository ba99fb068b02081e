import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { context } from '@opentelemetry/api';
import { correlationIdOf, ensureTraceContext, metricsRegistry, withCorrelation } from '@choreo/observability';

const CORRELATION_HEADER = 'x-correlation-id';
/** Probes and scrapes: counted, never logged. */
const QUIET_ROUTES = /^\/(livez|readyz|metrics)\b/;

let httpMetrics: { requests: Counter; duration: Histogram } | undefined;
function metrics() {
  httpMetrics ??= {
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [metricsRegistry()],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency, by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [metricsRegistry()],
    }),
  };
  return httpMetrics;
}

/**
 * Gives every request a correlation id (the caller's `X-Correlation-ID` when well-formed, else a new
 * one), echoes it, runs the rest of the request with it and with a trace context (the caller's
 * `traceparent` continued, or a new trace) in the log context, records metrics and writes one access
 * log line (5xx as errors, 4xx as warnings).
 */
export function installHttpContext(fastify: FastifyInstance, logger: Logger): void {
  // Fastify runs the body parser's callback in the async scope it started in, so the handler, after
  // the body is read, still sees what runs here (http-context.spec.ts sends a body in two packets).
  fastify.addHook('onRequest', (request: FastifyRequest, reply, done) => {
    const correlationId = correlationIdOf(request.headers[CORRELATION_HEADER] as string | undefined);
    request.headers[CORRELATION_HEADER] = correlationId;
    void reply.header('X-Correlation-ID', correlationId);
    context.with(withCorrelation(correlationId, ensureTraceContext(request.headers)), done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const seconds = reply.elapsedTime / 1000;
    // The matched route pattern, not the raw URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    const { requests, duration } = metrics();
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, seconds);
    done();
    if (QUIET_ROUTES.test(request.url)) return;
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'warn' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        correlationid: request.headers[CORRELATION_HEADER],
        req: { method: request.method, url: request.url },
        res: { statusCode: reply.statusCode },
        responseTimeMs: Math.round(seconds * 1e4) / 10,
      },
      'request completed',
    );
  });
}
