import { fieldMap } from '@choreo/contracts';
import { deleteIdleConsumers } from './consumer-pruning';
import { ConsumerRuntime, pause } from './consumer-runtime';
import { applyDeadLetterRetention, RetentionResult } from './dead-letter-retention';
import { trimConsumedEntries } from './stream-trimming';

/** How often consumers that are gone (idle, nothing pending) are looked for. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The group-upkeep part of a StreamConsumer, loops beside delivery: samples the group's gauges
 * (pending, lag, oldest pending age), trims what every group has consumed, removes consumers
 * that are gone, and, where it is asked to, applies the dead-letter retention. Each loop is optional.
 */
export class GroupUpkeep {
  private overBound = false;

  constructor(private readonly runtime: ConsumerRuntime) {}

  /** The loops this consumer runs, per its settings; each ends when the consumer stops. */
  loops(): Promise<void>[] {
    const { metricsIntervalMs, trimIntervalMs, pruneConsumersIdleMs } = this.runtime.settings;
    const loops: Promise<void>[] = [];
    if (metricsIntervalMs > 0) loops.push(this.metricsLoop());
    if (trimIntervalMs > 0) loops.push(this.trimLoop());
    if (pruneConsumersIdleMs > 0) loops.push(this.pruneLoop());
    if (this.runtime.settings.deadLetterRetention) loops.push(this.retentionLoop());
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

  private async retentionLoop(): Promise<void> {
    const { stopping, logger, settings } = this.runtime;
    while (!stopping.aborted) {
      await this.applyDeadLetterRetention().catch((error: Error) =>
        logger.warn(`could not apply the retention of ${settings.deadLetterStream}: ${error.message}`),
      );
      await pause(settings.deadLetterRetention?.intervalMs ?? 0, stopping);
    }
  }

  /** Deletes the dead letters older than the retention window and samples the dead-letter gauges. */
  async applyDeadLetterRetention(): Promise<RetentionResult> {
    const { redis, metrics, logger, settings } = this.runtime;
    const retention = settings.deadLetterRetention;
    if (!retention) throw new Error('this consumer has no deadLetterRetention');
    const stream = settings.deadLetterStream;
    const result = await applyDeadLetterRetention(redis, stream, retention.maxAgeMs);
    const gauges = metrics.deadLetters;
    const labels = { stream };
    gauges.length.set(labels, result.length);
    gauges.oldestAgeSeconds.set(labels, result.oldestAgeSeconds);
    gauges.retentionSeconds.set(labels, retention.maxAgeMs / 1000);
    gauges.alertLength.set(labels, retention.alertLength);
    if (result.expired > 0) {
      gauges.expired.inc(labels, result.expired);
      logger.log(`deleted ${result.expired} dead letter(s) older than the retention window from ${stream}`);
    }
    // Warn once per crossing, not every pass: the gauge carries the state, the log line the moment.
    const overBound = retention.alertLength > 0 && result.length > retention.alertLength;
    if (overBound && !this.overBound) {
      logger.warn(
        `${stream} holds ${result.length} entries, over its bound of ${retention.alertLength}; ` +
          'nothing younger than the retention window is deleted: look at them (npm run dlq -- list)',
      );
    }
    this.overBound = overBound;
    return result;
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
