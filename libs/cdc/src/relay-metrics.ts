import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The relay's Prometheus metrics, registered once per registry. */
export class RelayMetrics {
  readonly lagBytes: Gauge;
  readonly lagSeconds: Gauge;
  readonly events: Counter<'stream'>;
  readonly duplicatesSkipped: Counter<'stream'>;
  readonly transactions: Counter;
  readonly confirmedLsn: Gauge;
  readonly streaming: Gauge;
  readonly appendSeconds: Histogram;

  constructor(registry: Registry) {
    const metric = <T>(name: string, create: () => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? create();
    this.lagBytes = metric(
      'cdc_lag_bytes',
      () =>
        new Gauge({
          name: 'cdc_lag_bytes',
          help: 'WAL bytes between the server write position and the LSN confirmed to the slot',
          registers: [registry],
        }),
    );
    this.lagSeconds = metric(
      'cdc_lag_seconds',
      () =>
        new Gauge({
          name: 'cdc_lag_seconds',
          help: 'Seconds from commit (or heartbeat) to the event being held by Redis, last observed',
          registers: [registry],
        }),
    );
    this.events = metric(
      'cdc_events_total',
      () =>
        new Counter({
          name: 'cdc_events_total',
          help: 'Events appended to each stream',
          labelNames: ['stream'],
          registers: [registry],
        }),
    );
    this.duplicatesSkipped = metric(
      'cdc_duplicates_skipped_total',
      () =>
        new Counter({
          name: 'cdc_duplicates_skipped_total',
          help: 'Replayed events the high-water mark kept out of each stream (after a crash or reconnect)',
          labelNames: ['stream'],
          registers: [registry],
        }),
    );
    this.transactions = metric(
      'cdc_transactions_total',
      () =>
        new Counter({
          name: 'cdc_transactions_total',
          help: 'Committed transactions relayed',
          registers: [registry],
        }),
    );
    this.confirmedLsn = metric(
      'cdc_confirmed_lsn',
      () =>
        new Gauge({
          name: 'cdc_confirmed_lsn',
          help: 'Last LSN confirmed to PostgreSQL (as a number; everything before it is in Redis)',
          registers: [registry],
        }),
    );
    this.streaming = metric(
      'cdc_streaming',
      () =>
        new Gauge({
          name: 'cdc_streaming',
          help: '1 while the relay holds the slot and streams, 0 otherwise',
          registers: [registry],
        }),
    );
    this.appendSeconds = metric(
      'cdc_append_duration_seconds',
      () =>
        new Histogram({
          name: 'cdc_append_duration_seconds',
          help: 'Time to append one batch to Redis (all its streams)',
          buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
          registers: [registry],
        }),
    );
  }
}
