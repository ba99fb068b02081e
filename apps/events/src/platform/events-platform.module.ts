import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  AUTH_OPTIONS,
  BearerAuthGuard,
  EdgeOptions,
  RateLimitGuard,
  RateLimiter,
  createOpenApiDocument,
  edgeProviders,
  serveOpenApi,
} from '@choreo/http';
import { Database, migrate, purgeIdempotencyKeys } from '@choreo/persistence';
import { EVENTS_MIGRATIONS } from './events.schema';
import { EventsOpenApi } from './events-openapi';

/**
 * `auth` (`authConfig` + `jwtConfig`): writes need a bearer token or a JWT; `rateLimit`
 * (`rateLimitConfig`): limits per caller for reads and writes, counted in Redis when given.
 */
export interface EventsPlatformOptions extends EdgeOptions {
  /** `databaseConfig`. */
  database: { url: string; poolMax: number };
  /** Serve /openapi.json and the Swagger UI at /docs (default true). */
  openApi?: boolean;
  /** How long an Idempotency-Key is remembered (default 24 h); older keys are purged hourly. */
  idempotencyKeyTtlSeconds?: number;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;
const OPTIONS = Symbol('EventsPlatformOptions');

/** The app's start-up and shutdown: its migrations, its OpenAPI document, the key purge, the pool. */
@Injectable()
class EventsPlatformLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventsPlatform');
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @Inject(OPTIONS) private readonly options: EventsPlatformOptions,
    private readonly db: Database,
    private readonly openApi: EventsOpenApi,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    // The app owns its tables: migrate before any request or stream entry can reach them.
    await migrate(this.db, 'events', EVENTS_MIGRATIONS);
    if (this.options.openApi !== false) {
      const document = createOpenApiDocument(
        {
          title: 'choreo events',
          version: '1',
          description:
            'The events path: every write commits with its event (transactional outbox); orders and their lifecycle',
        },
        ...this.openApi.all(),
      );
      serveOpenApi(this.adapterHost.httpAdapter, document);
    }
  }

  onApplicationBootstrap(): void {
    const ttl = this.options.idempotencyKeyTtlSeconds ?? 24 * 60 * 60;
    const purge = () => {
      purgeIdempotencyKeys(this.db, ttl).then(
        (purged) => purged > 0 && this.logger.log(`purged ${purged} idempotency keys older than ${ttl} s`),
        (error: unknown) => this.logger.warn(`idempotency key purge failed: ${String(error)}`),
      );
    };
    this.purgeTimer = setInterval(purge, PURGE_EVERY_MS);
    // The timer alone must not keep a stopping process alive.
    this.purgeTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.purgeTimer);
    await this.db.close();
  }
}

/**
 * What every feature module of the events app (orders, entity events, choreography) stands on: the
 * one database pool and the app's migrations, auth (tokens, JWTs) and rate limits, the error filter, and the OpenAPI
 * document each feature adds its fragment to (`eventsOpenApiFragment`). Global: imported once, by
 * the app module.
 */
@Module({})
export class EventsPlatformModule {
  static forRoot(options: EventsPlatformOptions): DynamicModule {
    return {
      module: EventsPlatformModule,
      global: true,
      providers: [
        { provide: OPTIONS, useValue: options },
        {
          provide: Database,
          useFactory: () => new Database({ ...options.database, applicationName: 'events' }),
        },
        ...edgeProviders(options),
        EventsOpenApi,
        EventsPlatformLifecycle,
      ],
      exports: [Database, AUTH_OPTIONS, BearerAuthGuard, RateLimiter, RateLimitGuard, EventsOpenApi],
    };
  }
}
