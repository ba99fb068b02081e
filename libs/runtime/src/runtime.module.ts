import {
  DynamicModule,
  Global,
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  OnApplicationShutdown,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { createLogger, stopTracing } from '@choreo/observability';
import { HealthController } from './health.controller';
import { httpContextMiddleware } from './http-context.middleware';
import { ReadinessRegistry } from './readiness';

export interface RuntimeOptions {
  app: string;
  logLevel: string;
}

const ROOT_LOGGER = Symbol('RootLogger');

/** What every choreo app has: JSON logs, correlation ids, /livez, /readyz, /metrics. */
@Global()
@Module({})
export class RuntimeModule implements NestModule, OnApplicationShutdown {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  static forRoot(options: RuntimeOptions): DynamicModule {
    const logger = createLogger(options.app, options.logLevel);
    return {
      module: RuntimeModule,
      imports: [
        // nestjs-pino gives Nest and its providers (`Logger`, `PinoLogger`) this one pino logger. Its
        // per-request middleware is not mounted (`forRoutes: []`): a pino-http child logger per request
        // cost more CPU than handling the request; httpContextMiddleware writes one access line instead.
        LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
      ],
      controllers: [HealthController],
      providers: [ReadinessRegistry, { provide: ROOT_LOGGER, useValue: logger }],
      exports: [ReadinessRegistry],
    };
  }

  /** Last of the shutdown: flush the spans still buffered for the exporter. */
  async onApplicationShutdown() {
    await stopTracing();
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(httpContextMiddleware(this.logger)).forRoutes('{*path}');
  }
}
