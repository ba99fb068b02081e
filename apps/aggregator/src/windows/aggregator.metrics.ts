import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@choreo/observability';

interface AggregatorMetrics {
  events: Counter<'rule' | 'outcome'>;
  late: Counter<'rule'>;
  watermarkLag: Gauge<'source'>;
  openWindows: Gauge<'rule'>;
  batchSeconds: Histogram;
  batchEvents: Histogram;
}

let metrics: AggregatorMetrics | undefined;

// Created on first use and shared: a second app instance in one process must not register twice.
export function aggregatorMetrics(): AggregatorMetrics {
  metrics ??= {
    events: new Counter({
      name: 'aggregator_events_total',
      help: 'Events per rule by outcome: applied, duplicate, late, filtered, stale (superseded row change), waiting (half a span), failed',
      labelNames: ['rule', 'outcome'],
      registers: [metricsRegistry()],
    }),
    late: new Counter({
      name: 'aggregator_late_contributions_total',
      help: 'Contributions that arrived after their window closed (recorded in aggregate_late, not counted)',
      labelNames: ['rule'],
      registers: [metricsRegistry()],
    }),
    watermarkLag: new Gauge({
      name: 'aggregator_watermark_lag_seconds',
      help: 'Wall clock minus the source watermark',
      labelNames: ['source'],
      registers: [metricsRegistry()],
    }),
    openWindows: new Gauge({
      name: 'aggregator_open_windows',
      help: 'Windows not final yet, per rule',
      labelNames: ['rule'],
      registers: [metricsRegistry()],
    }),
    batchSeconds: new Histogram({
      name: 'aggregator_batch_seconds',
      help: 'Time to apply one batch (one transaction)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [metricsRegistry()],
    }),
    batchEvents: new Histogram({
      name: 'aggregator_batch_events',
      help: 'Events per batch (transaction)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [metricsRegistry()],
    }),
  };
  return metrics;
}
