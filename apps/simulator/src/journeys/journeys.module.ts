import {
  BeforeApplicationShutdown,
  DynamicModule,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ConsumerGroups, Streams } from '@choreo/contracts';
import {
  RedisStreamsServer,
  RedisStreamsServerOptions,
  STREAMS_REDIS,
  StreamPublisher,
} from '@choreo/streams';
import type Redis from 'ioredis';
import { JourneyPlanner } from '../journey/journey-planner';
import type { JourneySettings } from '../journey/journey-settings';
import { JourneyStore } from '../schedule/journey-store';
import { StepDispatcher } from '../schedule/step-dispatcher';
import { JourneyService } from './journey.service';
import { OrderEventsController } from './order-events.controller';
import { SimulatorMetrics } from './simulator.metrics';

export interface JourneysOptions {
  journey: JourneySettings;
  /** Longest pause of the step dispatcher between looks at the schedule. */
  tickMs: number;
}

/** Runs the step dispatcher from application start to shutdown. */
@Injectable()
class DispatcherLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly dispatcher: StepDispatcher) {}

  onApplicationBootstrap(): void {
    this.dispatcher.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.dispatcher.stop();
  }
}

/**
 * Journeys: order events in (through `orderEventsTransport`), kitchen and courier steps scheduled in
 * Redis and published when due. Needs StreamsModule (global) for the Redis connection and publisher.
 */
@Module({})
export class JourneysModule {
  static forRoot(options: JourneysOptions): DynamicModule {
    const logger = new Logger('StepDispatcher');
    return {
      module: JourneysModule,
      controllers: [OrderEventsController],
      providers: [
        JourneyService,
        DispatcherLifecycle,
        {
          provide: JourneyPlanner,
          useFactory: () =>
            new JourneyPlanner(options.journey, { kitchen: Streams.kitchen, couriers: Streams.couriers }),
        },
        {
          provide: JourneyStore,
          useFactory: (redis: Redis) => new JourneyStore(redis),
          inject: [STREAMS_REDIS],
        },
        {
          provide: SimulatorMetrics,
          useFactory: (store: JourneyStore) =>
            new SimulatorMetrics(store, (error) =>
              logger.error(`publishing due steps failed: ${error.message}`),
            ),
          inject: [JourneyStore],
        },
        {
          provide: StepDispatcher,
          useFactory: (store: JourneyStore, publisher: StreamPublisher, metrics: SimulatorMetrics) =>
            new StepDispatcher(store, publisher, metrics, { tickMs: options.tickMs }),
          inject: [JourneyStore, StreamPublisher, SimulatorMetrics],
        },
      ],
      exports: [JourneyService, JourneyStore, StepDispatcher],
    };
  }
}

/** The transport that feeds JourneysModule: the `orders` stream, consumer group `simulator`. */
export function orderEventsTransport(
  options: { redisUrl: string } & Partial<Omit<RedisStreamsServerOptions, 'group' | 'streams'>>,
): RedisStreamsServer {
  return new RedisStreamsServer({ ...options, group: ConsumerGroups.simulator, streams: [Streams.orders] });
}
