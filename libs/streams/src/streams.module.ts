import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { createRedis } from '@choreo/redis';
import { StreamPublisher } from './stream-publisher';

/** The ioredis connection StreamsModule provides (commands only; consumers open their own). */
export const STREAMS_REDIS = Symbol('STREAMS_REDIS');

export interface StreamsModuleOptions {
  redisUrl: string;
  /** Shown in `CLIENT LIST`; the app name is a good choice. */
  connectionName?: string;
}

@Injectable()
class StreamsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(STREAMS_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // quit() lets commands already sent (a publish in flight) complete before the socket closes.
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Provides StreamPublisher and the Redis connection under STREAMS_REDIS, app-wide. */
@Module({})
export class StreamsModule {
  static forRoot(options: StreamsModuleOptions): DynamicModule {
    return {
      module: StreamsModule,
      global: true,
      providers: [
        {
          provide: STREAMS_REDIS,
          useFactory: () =>
            createRedis(options.redisUrl, 'worker', {
              connectionName: options.connectionName ?? 'choreo:publisher',
            }),
        },
        {
          provide: StreamPublisher,
          useFactory: (redis: Redis) => new StreamPublisher(redis),
          inject: [STREAMS_REDIS],
        },
        StreamsConnectionCloser,
      ],
      exports: [STREAMS_REDIS, StreamPublisher],
    };
  }
}
