import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { context } from '@opentelemetry/api';
import {
  correlationIdOf,
  ensureTraceContext,
  metricsRegistry,
  runWithCorrelation,
} from '@choreo/observability';

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
export function httpContextMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const correlationId = correlationIdOf(req.header(CORRELATION_HEADER));
    req.headers[CORRELATION_HEADER] = correlationId;
    res.setHeader('X-Correlation-ID', correlationId);

    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The matched route pattern, not the raw URL, keeps label cardinality bounded.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const { requests, duration } = metrics();
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      duration.observe({ method: req.method, route }, seconds);
      if (QUIET_ROUTES.test(req.path)) return;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          correlationid: correlationId,
          req: { method: req.method, url: req.originalUrl },
          res: { statusCode: res.statusCode },
          responseTimeMs: Math.round(seconds * 1e4) / 10,
        },
        'request completed',
      );
    });
    runWithCorrelation(correlationId, () => context.with(ensureTraceContext(req.headers), next));
  };
}
