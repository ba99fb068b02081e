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
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import {
  AUTH_OPTIONS,
  AuthOptions,
  BearerAuthGuard,
  HttpErrorFilter,
  OpenApiFragment,
  createOpenApiDocument,
  serveOpenApi,
  type TrackingOptions,
} from '@choreo/http';
import { Database, migrate, purgeIdempotencyKeys } from '@choreo/persistence';
import { OrdersController } from './orders.controller';
import { TrackingTokenController } from './tracking-token.controller';
import { ordersOpenApi } from './orders.openapi';
import { OrdersRepository } from './orders.repository';
import { EVENTS_MIGRATIONS } from './orders.schema';
import { OrdersService, TRACKING_OPTIONS } from './orders.service';

export interface OrdersModuleOptions {
  /** `databaseConfig`. */
  database: { url: string; poolMax: number };
  /** `trackingConfig`. */
  tracking: TrackingOptions;
  /** `authConfig`: writes need one of these bearer tokens. */
  auth: AuthOptions;
  /** Serve /openapi.json and the Swagger UI at /docs (default true). */
  openApi?: boolean;
  /** How long an Idempotency-Key is remembered (default 24 h); older keys are purged hourly. */
  idempotencyKeyTtlSeconds?: number;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * The OpenAPI fragments of the events app's routes. Feature modules add theirs while their providers
 * are built; the document is served once, at module init, before Nest's 404 handler is registered.
 */
@Injectable()
export class EventsOpenApi {
  private readonly fragments: OpenApiFragment[] = [ordersOpenApi()];

  add(fragment: OpenApiFragment): void {
    this.fragments.push(fragment);
  }

  all(): readonly OpenApiFragment[] {
    return this.fragments;
  }
}

const OPTIONS = Symbol('OrdersModuleOptions');

@Injectable()
class OrdersLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OrdersLifecycle');
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @Inject(OPTIONS) private readonly options: OrdersModuleOptions,
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
 * `/orders`: placing orders with stock reservation and their lifecycle, each change with its outbox
 * event. Global, because it also holds what the app's other feature modules (entity events,
 * choreography) share: the one database pool, auth, the error filter and the OpenAPI document.
 */
@Module({})
export class OrdersModule {
  static forRoot(options: OrdersModuleOptions): DynamicModule {
    return {
      module: OrdersModule,
      global: true,
      // The token route first: its static segment must not be read as `:id/:action`.
      controllers: [TrackingTokenController, OrdersController],
      providers: [
        { provide: OPTIONS, useValue: options },
        {
          provide: Database,
          useFactory: () => new Database({ ...options.database, applicationName: 'events' }),
        },
        { provide: TRACKING_OPTIONS, useValue: options.tracking },
        { provide: AUTH_OPTIONS, useValue: options.auth },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        BearerAuthGuard,
        EventsOpenApi,
        OrdersRepository,
        OrdersService,
        OrdersLifecycle,
      ],
      exports: [Database, AUTH_OPTIONS, BearerAuthGuard, EventsOpenApi, OrdersService, OrdersRepository],
    };
  }
}
