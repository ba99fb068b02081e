import { ConsumerRuntime, Delivery, pause, refreshClaims } from './consumer-runtime';
import { DeliveryRunner } from './delivery-runner';
import { isNoGroupError } from './redis-connection';

/**
 * The reclaim part of a StreamConsumer. XAUTOCLAIM takes over entries idle past the claim timeout
 * (failed and due for their retry, or held by a crashed or stalled consumer) and runs them; handlers
 * that run long keep their claim alive so that no other consumer takes them and runs them twice.
 */
export class Reclaimer {
  private readonly claimCursors = new Map<string, string>();
  private readonly stopKeepAlive = new AbortController();
  private keepAliveLoop?: Promise<void>;

  constructor(
    private readonly runtime: ConsumerRuntime,
    private readonly delivery: DeliveryRunner,
    private readonly reportBug: (error: Error) => void,
  ) {}

  /** Reclaims every claimIntervalMs until the consumer stops. */
  async reclaimLoop(): Promise<void> {
    const { streams, claimIntervalMs } = this.runtime.settings;
    while (!this.runtime.stopping.aborted) {
      for (const stream of streams) {
        if (this.runtime.stopping.aborted) break;
        try {
          await this.reclaimStalled(stream);
        } catch (error) {
          if (isNoGroupError(error)) await this.runtime.ensureGroups().catch(() => undefined);
          this.runtime.logger.warn(`XAUTOCLAIM on ${stream} failed: ${(error as Error).message}`);
        }
      }
      await pause(claimIntervalMs, this.runtime.stopping);
    }
  }

  /** Starts refreshing the claims of long-running handlers; runs until stopKeepingAlive(). */
  startKeepingAlive(): void {
    this.keepAliveLoop = this.keepClaimsAlive();
  }

  /** Ends the keep-alive loop (after the last handler finished or was given up on). */
  async stopKeepingAlive(): Promise<void> {
    this.stopKeepAlive.abort();
    await this.keepAliveLoop;
  }

  /**
   * Takes over entries idle for claimTimeoutMs (failed and due for a retry, or owned by a crashed
   * consumer) and runs them. The cursor is carried between calls so a long pending list is scanned to
   * its end instead of its head being claimed again and again.
   */
  private async reclaimStalled(stream: string): Promise<void> {
    const cursor = this.claimCursors.get(stream) ?? '0-0';
    const [nextCursor, claimed, deletedIds] = (await this.runtime.redis.xautoclaim(
      stream,
      this.runtime.settings.group,
      this.runtime.settings.consumer,
      this.runtime.settings.claimTimeoutMs,
      cursor,
      'COUNT',
      this.runtime.settings.claimBatchSize,
    )) as [string, [string, string[] | null][], string[] | undefined];
    this.claimCursors.set(stream, nextCursor);
    // Entries deleted from the stream while pending (XDEL, trimming by someone else): nothing to run.
    if (deletedIds && deletedIds.length > 0)
      await this.runtime.redis.xack(stream, this.runtime.settings.group, ...deletedIds);
    const running = new Set<string>();
    for (const delivery of this.delivery.inFlight.keys())
      if (delivery.stream === stream) running.add(delivery.entryId);
    const live = claimed.filter(
      (entry): entry is [string, string[]] => entry[1] !== null && !running.has(entry[0]),
    );
    if (live.length === 0) return;
    this.runtime.metrics.retried.inc({ stream, group: this.runtime.settings.group }, live.length);
    const counts = await this.deliveryCounts(
      stream,
      live.map(([id]) => id),
    );
    const deliveries: Delivery[] = [];
    for (const [entryId, fields] of live) {
      const deliveryCount = counts.get(entryId) ?? this.runtime.settings.maxAttempts + 1;
      const delivery = { stream, entryId, fields, deliveryCount };
      if (deliveryCount > this.runtime.settings.maxAttempts) {
        // Every earlier delivery ended without an ack or a recorded failure: the handler crashed or
        // hung the consumer. Running it again would likely do the same.
        await this.delivery.deadLetter(
          delivery,
          `not acknowledged after ${deliveryCount - 1} deliveries (consumer crashed or stalled)`,
          'max_attempts',
        );
      } else {
        deliveries.push(delivery);
      }
    }
    if (deliveries.length > 0)
      await this.delivery.handleBatch(deliveries).catch((error: Error) => this.reportBug(error));
  }

  private async deliveryCounts(stream: string, entryIds: string[]): Promise<Map<string, number>> {
    const pipeline = this.runtime.redis.pipeline();
    for (const id of entryIds) pipeline.xpending(stream, this.runtime.settings.group, id, id, 1);
    const counts = new Map<string, number>();
    for (const [error, reply] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const [entry] = reply as [string, string, number, number][];
      if (entry) counts.set(entry[0], Number(entry[3]));
    }
    return counts;
  }

  /** Handlers that run long refresh their claim so no other consumer reclaims and runs them twice. */
  private async keepClaimsAlive(): Promise<void> {
    const every = Math.max(10, Math.floor(this.runtime.settings.claimTimeoutMs / 3));
    while (!this.stopKeepAlive.signal.aborted) {
      await pause(every, this.stopKeepAlive.signal);
      const byStream = new Map<string, string[]>();
      const threshold = performance.now() - every;
      for (const [{ stream, entryId }, startedAt] of this.delivery.inFlight) {
        if (startedAt > threshold) continue;
        byStream.set(stream, [...(byStream.get(stream) ?? []), entryId]);
      }
      for (const [stream, ids] of byStream) {
        try {
          await refreshClaims(this.runtime, stream, ids, 0);
        } catch (error) {
          this.runtime.logger.warn(`could not refresh claims on ${stream}: ${(error as Error).message}`);
        }
      }
    }
  }
}
