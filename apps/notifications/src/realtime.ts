import { ConsumerGroups, Streams } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import { createLogger, metricsRegistry } from '@choreo/observability';
import { Database } from '@choreo/persistence';
import { createStreamsConnection, StreamConsumerOptions } from '@choreo/streams';
import type { Server } from 'node:http';
import os from 'node:os';
import type { Logger } from 'pino';
import { ChannelHub } from './channels/channel-hub';
import { ChannelStore } from './channels/channel-store';
import { ChannelSync } from './channels/channel-sync';
import type { NotificationsConfig } from './config';
import { ChannelAuth } from './gateway/channel-auth';
import type { GatewayContext } from './gateway/gateway-context';
import { RealtimeGateway } from './gateway/realtime-gateway';
import { RealtimeMetrics } from './gateway/realtime-metrics';
import { TickWrites } from './gateway/tick-writes';
import { RealtimeIngest } from './ingest/realtime-ingest';
import type { OrderTimelineStore } from './read-model/order-timeline.store';
import { PgOrderTimelineStore } from './read-model/pg-order-timeline.store';

/**
 * The MongoDB read model, required only when MONGODB_URL is set: mongoose and its driver cost an idle
 * replica about 28 MB (bson allocates a 17 MB serialisation buffer when it loads) that the default
 * PostgreSQL store never uses.
 */
function mongoTimelines(url: string): OrderTimelineStore {
  const { MongoOrderTimelineStore } =
    require('./read-model/mongo-order-timeline.store') as typeof import('./read-model/mongo-order-timeline.store');
  return new MongoOrderTimelineStore(url);
}

/** The parts of the real-time edge of one replica, wired from its config (no Nest inside). */
export class Realtime {
  readonly log: Logger;
  readonly metrics = RealtimeMetrics.for(metricsRegistry());
  readonly commands;
  readonly subscriber;
  readonly timelines: OrderTimelineStore;
  readonly channels: ChannelStore;
  readonly hub: ChannelHub;
  readonly sync: ChannelSync;
  readonly gateway: RealtimeGateway;
  readonly ingest: RealtimeIngest;
  readonly context: GatewayContext;
  readonly replicaId = `${os.hostname()}-${process.pid}`;

  constructor(readonly config: NotificationsConfig) {
    this.log = createLogger('notifications', config.log.level);
    this.commands = createStreamsConnection(config.redis.url, { connectionName: 'notifications:commands' });
    this.subscriber = createStreamsConnection(config.redis.url, { connectionName: 'notifications:pubsub' });
    this.commands.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.timelines = config.mongo.url
      ? mongoTimelines(config.mongo.url)
      : new PgOrderTimelineStore(
          new Database({
            url: config.database.url,
            poolMax: config.database.poolMax,
            applicationName: 'notifications',
          }),
        );
    this.channels = new ChannelStore(this.commands);
    this.hub = new ChannelHub(this.subscriber, this.commands, {
      replicaId: this.replicaId,
      onProbeState: (up) => {
        this.metrics.pubsubUp.set(up ? 1 : 0);
        this.log.warn(
          { up },
          up ? 'pub/sub is back: repairing every channel from history' : 'pub/sub probe lost: not ready',
        );
      },
      onLatency: (ms) => this.metrics.publishToSend.observe(ms / 1000),
    });
    this.sync = new ChannelSync(this.hub, this.channels, this.timelines);
    this.context = {
      limits: config.realtime.limits,
      metrics: this.metrics,
      hub: this.hub,
      sync: this.sync,
      auth: new ChannelAuth({
        trackingSecret: config.tracking.secret,
        apiTokens: config.auth.tokens,
        publicChannels: config.realtime.publicChannels,
      }),
      log: this.log,
      subscriptionStats: { duplicates: 0, gaps: 0 },
      draining: new Set(),
      writes: new TickWrites(),
      onSubscribed: () => undefined,
      onUnsubscribed: () => undefined,
    };
    this.gateway = new RealtimeGateway(this.context, { allowedOrigins: config.realtime.allowedOrigins });
    this.ingest = new RealtimeIngest(this.channels, this.timelines, this.metrics, this.log);
  }

  async start(server: Server): Promise<void> {
    await this.timelines.init();
    await this.hub.start();
    this.gateway.attach(server);
  }

  async stop(): Promise<void> {
    this.gateway.close();
    this.hub.stop();
    this.subscriber.disconnect();
    // quit() lets a publish in flight finish; with Redis gone it would wait forever, hence the bound.
    const quit = this.commands.quit().catch(() => undefined);
    await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    this.commands.disconnect();
    await this.timelines.close();
  }

  /** The consumer (group `notifications`) that feeds the channels. */
  consumerOptions(): StreamConsumerOptions {
    const entities = loadEntities(this.config.entities.dir);
    return {
      redisUrl: this.config.redis.url,
      group: ConsumerGroups.notifications,
      consumer: `notifications-${this.replicaId}`,
      streams: [
        Streams.orders,
        Streams.couriers,
        Streams.aggregates,
        ...entities.all().map((e) => Streams.cdc(e.name)),
      ],
      concurrency: 32,
      // A gap is normal under concurrency (an event before its predecessor): retry soon and often.
      retry: { baseMs: 100, maxMs: 2_000, jitter: 0.3 },
      claimIntervalMs: 200,
      claimTimeoutMs: 5_000,
      maxAttempts: 100,
      registry: metricsRegistry(),
    };
  }
}
