import { DynamicModule, Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { createLogger, stopTracing } from '@choreo/observability';
import { HealthController } from './health.controller';
import { ReadinessRegistry } from './readiness';

export interface RuntimeOptions {
  app: string;
  logLevel: string;
  /** The app's root logger, when the caller made it already (runApp shares it with the HTTP hooks). */
  logger?: Logger;
}

/** What every choreo app has: JSON logs, correlation ids, /livez, /readyz, /metrics. */
@Global()
@Module({})
export class RuntimeModule implements OnApplicationShutdown {
  static forRoot(options: RuntimeOptions): DynamicModule {
    const logger = options.logger ?? createLogger(options.app, options.logLevel);
    return {
      module: RuntimeModule,
      imports: [
        // nestjs-pino gives Nest and its providers (`Logger`, `PinoLogger`) this one pino logger. Its
        // per-request middleware is not mounted (`forRoutes: []`): a pino-http child logger per request
        // cost more CPU than handling the request; installHttpContext writes one access line instead.
        LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
      ],
      controllers: [HealthController],
      providers: [ReadinessRegistry],
      exports: [ReadinessRegistry],
    };
  }

  /** Last of the shutdown: flush the spans still buffered for the exporter. */
  async onApplicationShutdown() {
    await stopTracing();
  }
}
