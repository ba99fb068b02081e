import { DynamicModule, Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loggerOptions } from '@choreo/observability';
import { HealthController } from './health.controller';
import { httpContextMiddleware } from './http-context.middleware';
import { ReadinessRegistry } from './readiness';

export interface RuntimeOptions {
  app: string;
  logLevel: string;
}

const QUIET_ROUTES = /^\/(livez|readyz|metrics)\b/;

/** What every choreo app has: JSON logs, correlation ids, /livez, /readyz, /metrics. */
@Global()
@Module({})
export class RuntimeModule implements NestModule {
  static forRoot(options: RuntimeOptions): DynamicModule {
    return {
      module: RuntimeModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            ...loggerOptions(options.app, options.logLevel),
            autoLogging: { ignore: (req) => QUIET_ROUTES.test(req.url ?? '') },
            customProps: (req) => ({ correlationid: req.headers['x-correlation-id'] }),
            quietReqLogger: true,
          },
        }),
      ],
      controllers: [HealthController],
      providers: [ReadinessRegistry],
      exports: [ReadinessRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(httpContextMiddleware).forRoutes('*');
  }
}
