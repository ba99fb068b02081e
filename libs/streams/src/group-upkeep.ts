import { fieldMap } from '@choreo/contracts';
import { deleteIdleConsumers } from './consumer-pruning';
import { ConsumerRuntime, pause } from './consumer-runtime';
import { trimConsumedEntries } from './stream-trimming';

/** How often consumers that are gone (idle, nothing pending) are looked for. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The group-upkeep part of a StreamConsumer, loops beside delivery: samples the group's gauges
 * (pending, lag, oldest pending age), trims what every group has consumed, and removes consumers
 * that are gone. Each loop is optional (its interval 0 turns it off).
 */
export class GroupUpkeep {
  constructor(private readonly runtime: ConsumerRuntime) {}

  /** The loops this consumer runs, per its settings; each ends when the consumer stops. */
  loops(): Promise<void>[] {
    const { metricsIntervalMs, trimIntervalMs, pruneConsumersIdleMs } = this.runtime.settings;
    const loops: Promise<void>[] = [];
    if (metricsIntervalMs > 0) loops.push(this.metricsLoop());
    if (trimIntervalMs > 0) loops.push(this.trimLoop());
    if (pruneConsumersIdleMs > 0) loops.push(this.pruneLoop());
    return loops;
  }

  private async metricsLoop(): Promise<void> {
    while (!this.runtime.stopping.aborted) {
      await this.sampleGroupMetrics().catch((error: Error) =>
        this.runtime.logger.warn(`could not sample stream metrics: ${error.message}`),
      );
      await pause(this.runtime.settings.metricsIntervalMs, this.runtime.stopping);
    }
  }

  /** Samples pending count, lag and oldest pending age of this group on each of its streams. */
  async sampleGroupMetrics(): Promise<void> {
    const { redis, metrics } = this.runtime;
    const { group, streams } = this.runtime.settings;
    for (const stream of streams) {
      const pipeline = redis.pipeline();
      pipeline.xinfo('GROUPS', stream);
      pipeline.xpending(stream, group);
      const [[infoError, groups], [pendingError, summary]] = (await pipeline.exec()) ?? [];
      if (infoError) throw infoError;
      if (pendingError) throw pendingError;
      const labels = { stream, group };
      const info = (groups as unknown[][]).map((g) => fieldMap(g.map(String)));
      const ours = info.find((g) => g['name'] === group);
      const [pending, oldestId] = summary as [number, string | null];
      metrics.pending.set(labels, Number(pending));
      // XINFO reports lag as nil when it cannot tell (after deletions); leave the gauge as it was then.
      const lag = ours?.['lag'];
      if (lag !== undefined && lag !== 'null') metrics.lag.set(labels, Number(lag));
      const oldestMs = oldestId ? Number(oldestId.split('-')[0]) : undefined;
      metrics.oldestPendingSeconds.set(
        labels,
        oldestMs === undefined ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000),
      );
    }
  }

  private async trimLoop(): Promise<void> {
    const { redis, logger, stopping } = this.runtime;
    while (!stopping.aborted) {
      await pause(this.runtime.settings.trimIntervalMs, stopping);
      for (const stream of this.runtime.settings.streams) {
        if (stopping.aborted) break;
        await trimConsumedEntries(redis, stream, { approximate: true }).catch((error: Error) =>
          logger.warn(`could not trim ${stream}: ${error.message}`),
        );
      }
    }
  }

  /** Deletes consumers of the group with nothing pending and idle past pruneConsumersIdleMs, every minute. */
  private async pruneLoop(): Promise<void> {
    while (!this.runtime.stopping.aborted) {
      await this.pruneGoneConsumers();
      await pause(PRUNE_EVERY_MS, this.runtime.stopping);
    }
  }

  private async pruneGoneConsumers(): Promise<void> {
    const { redis, logger } = this.runtime;
    const { group, streams, pruneConsumersIdleMs } = this.runtime.settings;
    for (const stream of streams) {
      if (this.runtime.stopping.aborted) return;
      try {
        const deleted = await deleteIdleConsumers(redis, stream, group, { minIdleMs: pruneConsumersIdleMs });
        if (deleted.length > 0) logger.log(`removed gone consumers from ${stream}: ${deleted.join(', ')}`);
      } catch (error) {
        logger.warn(`could not prune consumers of ${stream}: ${(error as Error).message}`);
      }
    }
  }
}
