import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { nextWatermark } from '@choreo/aggregation';
import { Database } from '@choreo/persistence';
import { aggregatorMetrics } from './aggregator.metrics';
import { AggregationService } from './aggregation.service';
import { RuleSet } from './rule-set';
import { WindowStore } from './window.store';

export const CLOSER_SETTINGS = Symbol('WindowCloserSettings');

export interface WindowCloserSettings {
  /** A source quiet this long has its watermark follow the clock (now − idleMs); 0: never. */
  idleMs: number;
  tickMs: number;
}

/**
 * Moves the watermarks of idle sources and closes the windows they pass, every tick, so windows close
 * on a quiet stream. Each source is one transaction holding its row lock, like a batch, so replicas
 * closing at once publish each closed version once. Also samples the watermark-lag and open-window gauges.
 */
@Injectable()
export class WindowCloser implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WindowCloser.name);
  // After a restart the backlog needs a moment to flow: quiet time counts from the start at the earliest.
  private readonly startedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly rules: RuleSet,
    @Inject(CLOSER_SETTINGS) private readonly settings: WindowCloserSettings,
    private readonly db: Database,
    private readonly store: WindowStore,
    private readonly aggregation: AggregationService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((error: unknown) => this.logger.warn(`closing windows failed: ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, this.settings.tickMs);
    this.timer.unref();
  }

  // Before any onApplicationShutdown: the pool closes there.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every source. */
  async tick(now = Date.now()): Promise<void> {
    const metrics = aggregatorMetrics();
    for (const source of this.rules.sources) {
      const watermark = await this.db.transaction(async (tx) => {
        const clock = (await this.store.lockSources(tx, [source])).get(source);
        const current = clock?.watermark ?? -Infinity;
        const lastEventAt = Math.max(clock?.lastEventAt ?? -Infinity, this.startedAt);
        const next = nextWatermark(current, { lastEventAt, now, idleMs: this.settings.idleMs });
        if (next > current) await this.store.saveSource(tx, source, next, false);
        for (const rule of this.rules.bySource.get(source) ?? [])
          await this.aggregation.closeDue(tx, rule, next);
        return next;
      });
      if (Number.isFinite(watermark)) metrics.watermarkLag.set({ source }, (now - watermark) / 1000);
    }
    const { rows } = await this.db.query<{ rule: string; open: string }>(
      'select rule, count(*) as open from aggregate_window where not final group by rule',
    );
    const open = new Map(rows.map((r) => [r.rule, Number(r.open)]));
    for (const rule of this.rules.rules)
      metrics.openWindows.set({ rule: rule.name }, open.get(rule.name) ?? 0);
  }
}
