import { Counter, Gauge, Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram';

/** The Prometheus metrics of stream consumers; one set per registry, shared by every consumer in it. */
export class StreamsMetrics {
  private static readonly byRegistry = new WeakMap<Registry, StreamsMetrics>();

  readonly handled: Counter<'stream' | 'group' | 'type'>;
  readonly failed: Counter<'stream' | 'group' | 'type'>;
  readonly retried: Counter<'stream' | 'group'>;
  readonly deadLettered: Counter<'stream' | 'group' | 'reason'>;
  readonly unhandled: Counter<'stream' | 'group' | 'type'>;
  readonly duplicates: Counter<'stream' | 'group' | 'type'>;
  /** Labels stream, group, type. */
  readonly handlerSeconds: LatencyHistogram;
  readonly pending: Gauge<'stream' | 'group'>;
  readonly lag: Gauge<'stream' | 'group'>;
  readonly oldestPendingSeconds: Gauge<'stream' | 'group'>;
  readonly deadLetters: DeadLetterMetrics;

  /** The metrics registered in `registry`, created on first use. */
  static for(registry: Registry): StreamsMetrics {
    let metrics = StreamsMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new StreamsMetrics(registry);
      StreamsMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.handled = new Counter({
      name: 'choreo_stream_events_handled_total',
      help: 'Stream entries handled successfully and acknowledged',
      labelNames: ['stream', 'group', 'type'],
      registers,
    });
    this.failed = new Counter({
      name: 'choreo_stream_events_failed_total',
      help: 'Handler attempts that threw',
      labelNames: ['stream', 'group', 'type'],
      registers,
    });
    this.retried = new Counter({
      name: 'choreo_stream_events_retried_total',
      help: 'Pending entries reclaimed with XAUTOCLAIM for another attempt',
      labelNames: ['stream', 'group'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'choreo_stream_events_dead_lettered_total',
      help: 'Entries moved to dead-letters (reason: undecodable | max_attempts)',
      labelNames: ['stream', 'group', 'reason'],
      registers,
    });
    this.unhandled = new Counter({
      name: 'choreo_stream_events_unhandled_total',
      help: 'Entries acknowledged without a handler for their type',
      labelNames: ['stream', 'group', 'type'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'choreo_stream_events_duplicate_total',
      help: 'Redeliveries skipped because their event id was already handled',
      labelNames: ['stream', 'group', 'type'],
      registers,
    });
    this.handlerSeconds = new LatencyHistogram(
      'choreo_stream_handler_duration_seconds',
      'Handler latency, successful or not',
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registry,
    );
    this.pending = new Gauge({
      name: 'choreo_stream_group_pending',
      help: 'Entries delivered to the group and not yet acknowledged',
      labelNames: ['stream', 'group'],
      registers,
    });
    this.lag = new Gauge({
      name: 'choreo_stream_group_lag',
      help: 'Entries in the stream not yet delivered to the group (XINFO GROUPS lag)',
      labelNames: ['stream', 'group'],
      registers,
    });
    this.oldestPendingSeconds = new Gauge({
      name: 'choreo_stream_group_oldest_pending_seconds',
      help: 'Age of the oldest pending entry of the group (from its entry id), 0 when none',
      labelNames: ['stream', 'group'],
      registers,
    });
    this.deadLetters = deadLetterMetrics(registers);
  }
}

/** Gauges and counter of the dead-letter stream, sampled by the consumer that applies its retention. */
export interface DeadLetterMetrics {
  length: Gauge<'stream'>;
  oldestAgeSeconds: Gauge<'stream'>;
  expired: Counter<'stream'>;
  retentionSeconds: Gauge<'stream'>;
  alertLength: Gauge<'stream'>;
}

function deadLetterMetrics(registers: Registry[]): DeadLetterMetrics {
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['stream'], registers });
  return {
    length: gauge('choreo_dead_letters_length', 'Entries in the dead-letter stream (XLEN)'),
    oldestAgeSeconds: gauge(
      'choreo_dead_letters_oldest_age_seconds',
      'Age of the oldest dead letter (from its entry id), 0 when there is none',
    ),
    expired: new Counter({
      name: 'choreo_dead_letters_expired_total',
      help: 'Dead letters deleted because they were older than the retention window',
      labelNames: ['stream'],
      registers,
    }),
    retentionSeconds: gauge(
      'choreo_dead_letters_retention_seconds',
      'Retention window of the dead-letter stream (DEAD_LETTER_RETENTION), 0 when kept forever',
    ),
    alertLength: gauge(
      'choreo_dead_letters_alert_length',
      'Length past which the dead-letter stream is over its bound (DEAD_LETTER_ALERT_LENGTH), 0 when unbounded',
    ),
  };
}
