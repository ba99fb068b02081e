import { LatencyHistogram, LatencySeries } from '@choreo/streams';
import { Counter, Gauge, Registry } from 'prom-client';

/** The Prometheus metrics of the real-time edge (one set per registry). */
export class RealtimeMetrics {
  private static readonly byRegistry = new WeakMap<Registry, RealtimeMetrics>();
  readonly connections: Gauge<'transport'>;
  readonly subscriptions: Gauge<'kind'>;
  readonly framesSent: Counter;
  readonly framesCoalesced: Counter;
  readonly framesDropped: Counter;
  readonly slowCloses: Counter;
  readonly refusedFrames: Counter<'code'>;
  readonly resumes: Counter<'outcome'>;
  readonly published: Counter<'kind' | 'outcome'>;
  readonly pubsubUp: Gauge;
  /** Publish script → this replica queuing the frame for its clients. */
  readonly publishToSend: LatencySeries;

  static for(registry: Registry): RealtimeMetrics {
    let metrics = RealtimeMetrics.byRegistry.get(registry);
    if (!metrics) RealtimeMetrics.byRegistry.set(registry, (metrics = new RealtimeMetrics(registry)));
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new Gauge({
      name: 'choreo_realtime_connections',
      help: 'Open real-time connections',
      labelNames: ['transport'],
      registers,
    });
    this.subscriptions = new Gauge({
      name: 'choreo_realtime_subscriptions',
      help: 'Channel subscriptions held, by channel kind',
      labelNames: ['kind'],
      registers,
    });
    this.framesSent = new Counter({
      name: 'choreo_realtime_frames_sent_total',
      help: 'Frames written to client sockets',
      registers,
    });
    this.framesCoalesced = new Counter({
      name: 'choreo_realtime_frames_coalesced_total',
      help: 'Queued state frames replaced by a newer one of the same key',
      registers,
    });
    this.framesDropped = new Counter({
      name: 'choreo_realtime_frames_dropped_total',
      help: 'Queued frames discarded when a slow connection was closed (the client resumes them)',
      registers,
    });
    this.slowCloses = new Counter({
      name: 'choreo_realtime_slow_closes_total',
      help: 'Connections closed with 4001 (send queue past its bound)',
      registers,
    });
    this.refusedFrames = new Counter({
      name: 'choreo_realtime_refused_frames_total',
      help: 'Inbound frames and requests refused, by error code',
      labelNames: ['code'],
      registers,
    });
    this.resumes = new Counter({
      name: 'choreo_realtime_resumes_total',
      help: 'Subscriptions resumed from a position, by outcome (recovered or snapshot)',
      labelNames: ['outcome'],
      registers,
    });
    this.published = new Counter({
      name: 'choreo_realtime_publications_total',
      help: 'Publish attempts by channel kind and outcome (published, duplicate, gap, stale)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.pubsubUp = new Gauge({
      name: 'choreo_realtime_pubsub_up',
      help: '1 while the pub/sub probe comes back, 0 when it does not',
      registers,
    });
    this.pubsubUp.set(1);
    this.publishToSend = new LatencyHistogram(
      'choreo_realtime_publish_to_send_seconds',
      'From the publish script to this replica queuing the frame for its clients',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registry,
    ).labels({});
  }
}
