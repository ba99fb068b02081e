import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import type Redis from 'ioredis';
import { createRedis } from '@choreo/redis';
import { Pool } from 'pg';
import { ReadinessRegistry } from './readiness';

export interface ConnectionProbesOptions {
  redisUrl?: string;
  databaseUrl?: string;
}

const OPTIONS = Symbol('ConnectionProbesOptions');

/**
 * Readiness probes for an app's Redis and PostgreSQL: one small dedicated connection each, so
 * `/readyz` reports the servers' reachability even while the app's own pools are busy.
 */
@Injectable()
class ConnectionProbes implements OnModuleInit, OnApplicationShutdown {
  private redis?: Redis;
  private pool?: Pool;

  constructor(
    @Inject(OPTIONS) private readonly options: ConnectionProbesOptions,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit() {
    if (this.options.redisUrl) {
      const redis = createRedis(this.options.redisUrl, 'probe', { connectionName: 'choreo:readiness' });
      redis.on('error', () => undefined); // reported through readiness, not as crashes
      void redis.connect().catch(() => undefined);
      this.redis = redis;
      this.readiness.register('redis', async () => (await redis.ping()) === 'PONG');
    }
    if (this.options.databaseUrl) {
      const pool = new Pool({
        connectionString: this.options.databaseUrl,
        max: 1,
        connectionTimeoutMillis: 1000,
      });
      pool.on('error', () => undefined);
      this.pool = pool;
      this.readiness.register('postgres', async () => (await pool.query('select 1')).rowCount === 1);
    }
  }

  async onApplicationShutdown() {
    this.redis?.disconnect();
    await this.pool?.end();
  }
}

@Module({})
export class ConnectionProbesModule {
  static forRoot(options: ConnectionProbesOptions): DynamicModule {
    return {
      module: ConnectionProbesModule,
      providers: [{ provide: OPTIONS, useValue: options }, ConnectionProbes],
    };
  }
}
