import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { CdcConfig, CdcRelay, CdcSetupError } from '@choreo/cdc';
import { ActionableError, CONFIG_REFUSED_EXIT_CODE } from '@choreo/config';
import { metricsRegistry } from '@choreo/observability';
import { BACKOFF, backoffDelayMs } from '@choreo/redis';
import { ReadinessRegistry } from '@choreo/runtime';

export interface RelayModuleOptions {
  databaseUrl: string;
  redisUrl: string;
  cdc: CdcConfig;
}

export const RELAY_OPTIONS = Symbol('RelayModuleOptions');

/**
 * Runs the relay for the app's lifetime. A setup problem (wal_level, replica identity, a lost slot)
 * stops the boot with the message that says what to change; an unreachable PostgreSQL is retried in
 * the background while `/readyz` reports `streaming: down`.
 */
@Injectable()
export class RelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('cdc-relay');
  readonly relay: CdcRelay;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(@Inject(RELAY_OPTIONS) options: RelayModuleOptions, readiness: ReadinessRegistry) {
    this.relay = new CdcRelay({
      ...options.cdc,
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      registry: metricsRegistry(),
      logger: {
        log: (message) => this.logger.log(message),
        warn: (message) => this.logger.warn(message),
        error: (message) => this.logger.error(message),
      },
    });
    readiness.register('streaming', () => Promise.resolve(this.relay.state === 'streaming'));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.relay.stop();
  }

  private async start(attempt: number): Promise<void> {
    try {
      await this.relay.start();
    } catch (error) {
      if (error instanceof CdcSetupError) throw error;
      if (this.stopped) return;
      const delay = backoffDelayMs(attempt + 1, BACKOFF.appStart);
      this.logger.warn(`cannot start yet (${(error as Error).message}); retrying in ${delay} ms`);
      this.retry = setTimeout(() => {
        this.start(attempt + 1).catch((fatal: unknown) => {
          this.logger.error(`cdc-relay cannot run: ${(fatal as Error).message}`);
          process.exitCode = fatal instanceof ActionableError ? CONFIG_REFUSED_EXIT_CODE : 1;
          process.kill(process.pid, 'SIGTERM');
        });
      }, delay);
    }
  }
}
