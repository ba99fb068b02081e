import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import {
  ActionableError,
  CONFIG_REFUSED_EXIT_CODE,
  ConfigError,
  ConfigOf,
  ConfigSlice,
  httpConfig,
  LoadedConfig,
  loadConfig,
  logConfig,
} from '@choreo/config';
import { createLogger, setMetricsApp } from '@choreo/observability';
import { createHttpApp } from './http-app';
import { installHttpContext } from './http-context';
import { RuntimeModule } from './runtime.module';

type HttpSettings = ConfigOf<ReturnType<typeof httpConfig>>;
type LogSettings = ConfigOf<typeof logConfig>;

/**
 * Validates the whole environment before anything starts; on a bad one prints every problem and
 * exits with CONFIG_REFUSED_EXIT_CODE, so a bad deploy fails at once instead of on its first message.
 */
export function loadConfigOrExit<S extends Record<string, ConfigSlice<unknown>>>(
  app: string,
  slices: S,
): LoadedConfig<S> {
  try {
    return loadConfig(slices);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${app}: ${error.message}\n`);
    process.exit(CONFIG_REFUSED_EXIT_CODE);
  }
}

export interface RunAppOptions {
  app: string;
  module: Type | DynamicModule;
  http: HttpSettings;
  log: LogSettings;
  /** The app's stream consumers (e.g. RedisStreamsServer); started before the app listens. */
  transports?: readonly CustomTransportStrategy[];
  /** Extra setup before listening (OpenAPI, …). */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * The response headers a browser lets scripts read on a cross-origin answer (CORS
 * `Access-Control-Expose-Headers`): a browser hides every other one. PostgREST clients read
 * `Content-Range` (counts, paging) and `Preference-Applied`; paging, concurrency, tracing and the rate
 * limiter's back-off need the rest.
 */
export const EXPOSED_HEADERS = [
  'Content-Range',
  'Preference-Applied',
  'ETag',
  'Location',
  'Link',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'X-Correlation-ID',
  'X-Event-ID',
  'Idempotent-Replayed',
];

/**
 * Connections the kernel may hold waiting for accept() (it caps this at net.core.somaxconn). Node's
 * default, 511, overflows when thousands of WebSocket clients reconnect at once (a replica restart,
 * a network blip): the overflow is dropped and retried by the clients' TCP after 1, 3, 7, 15 … s.
 */
const LISTEN_BACKLOG = 4096;

/** Boots a choreo app: logging, health, metrics, body limits, CORS, graceful shutdown, then listens. */
export async function runApp(options: RunAppOptions): Promise<INestApplication> {
  setMetricsApp(options.app);
  const rootLogger = createLogger(options.app, options.log.level);

  @Module({
    imports: [
      RuntimeModule.forRoot({ app: options.app, logLevel: options.log.level, logger: rootLogger }),
      options.module,
    ],
  })
  class ChoreoApp {}

  const app = await createHttpApp(ChoreoApp, {
    bufferLogs: true,
    bodyLimitBytes: options.http.bodyLimitBytes,
  });
  // Before Nest registers the routes, so every route runs the hooks.
  installHttpContext(app.getHttpAdapter().getInstance(), rootLogger);
  const logger = app.get(Logger);
  app.useLogger(logger);
  if (options.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: options.http.corsOrigins.includes('*') ? true : options.http.corsOrigins,
      exposedHeaders: EXPOSED_HEADERS,
    });
  }
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  for (const strategy of options.transports ?? []) app.connectMicroservice({ strategy });
  await options.configure?.(app);
  await app.startAllMicroservices();
  await app.listen({ port: options.http.port, host: options.http.host, backlog: LISTEN_BACKLOG });
  compactStartupHeap();
  logger.log(`${options.app} listening on http://${options.http.host}:${options.http.port}`, 'Bootstrap');
  return app;
}

/** V8's `gc`, there when the process runs with `--expose-gc` (the apps' flags: APP_NODE_FLAGS). */
type ExposedGc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * One compacting, memory-reducing full GC as soon as the app listens (what reaches it in those first
 * milliseconds is a readiness probe, not traffic). Start-up (modules compiled, Nest's container built,
 * definitions read, config schemas made and dropped) leaves V8's old space full of garbage and sparse
 * pages, and V8's own memory reducer, which would compact them once the app idles, never runs in a
 * server that keeps a little traffic going (timers, blocking stream reads): an idle app kept about
 * 10 MB of them on Node 24 (`npm run bench:footprint`). It takes about 90 ms, once. Without
 * `--expose-gc` (specs, benches under the TypeScript loader) it does nothing.
 */
export function compactStartupHeap(gc = (globalThis as { gc?: ExposedGc }).gc): void {
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * Runs `main`, and on a start-up failure logs it and exits non-zero: CONFIG_REFUSED_EXIT_CODE when the
 * error says what to change (an ActionableError), 1 otherwise.
 */
export function start(app: string, main: () => Promise<unknown>): void {
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      const text =
        error instanceof ActionableError
          ? `${error.name}: ${error.message}`
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
      process.stderr.write(`${app}: failed to start: ${text}\n`);
      process.exit(error instanceof ActionableError ? CONFIG_REFUSED_EXIT_CODE : 1);
    });
}

/** The slices every app has; apps add their own. */
export type AppSlices = { http: ConfigSlice<HttpSettings>; log: ConfigSlice<LogSettings> } & Record<
  string,
  ConfigSlice<unknown>
>;

/** What an app adds to its module in `launch`: its stream consumers and any extra setup. */
export interface LaunchOptions<C> {
  /** The app's stream transports, e.g. `(config) => [ordersTransport({ redisUrl: config.redis.url })]`. */
  transports?: (config: C) => readonly CustomTransportStrategy[];
  configure?: (app: NestFastifyApplication, config: C) => void | Promise<void>;
}

/**
 * An app's whole `main`: validate the environment (exit 1 naming every bad variable), build the
 * app's module and stream transports from the typed config, and run them.
 */
export function launch<S extends AppSlices>(
  app: string,
  slices: S,
  module: (config: LoadedConfig<S>) => Type | DynamicModule,
  options: LaunchOptions<LoadedConfig<S>> = {},
): void {
  const config = loadConfigOrExit(app, slices);
  const { transports, configure } = options;
  start(app, () =>
    runApp({
      app,
      module: module(config),
      http: config.http as HttpSettings,
      log: config.log as LogSettings,
      transports: transports?.(config),
      configure: configure && ((nest) => configure(nest, config)),
    }),
  );
}
