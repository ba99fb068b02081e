import { decodeEnvelope, EnvelopeDecodeError, EventEnvelope } from '@choreo/contracts';
import { extractTraceContext, withCorrelation } from '@choreo/observability';
import { context } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { retryDelayMs, RetryPolicy } from './retry-policy';
import type { HandlerResolver, StreamEventContext } from './consumer-options';
import { ConsumerRuntime, Delivery, Outcome, refreshClaims } from './consumer-runtime';
import { moveToDeadLetters } from './dead-letters';
import type { EventDedupe } from './event-dedupe';
import { Semaphore } from './semaphore';

/** Entry ids to acknowledge, by stream. */
export type Acks = Map<string, string[]>;

interface Running {
  delivery: Delivery;
  event: EventEnvelope;
  tally: TypeTally;
  startedAt: number;
}

interface TypeTally {
  labels: { stream: string; group: string; type: string };
  seconds: { observe(value: number): void };
  handled: number;
  failed: number;
  unhandled: number;
  duplicates: number;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * The delivery part of a StreamConsumer: runs batches of entries (read or reclaimed) through their
 * handlers with bounded concurrency, acknowledges what succeeded in one pipelined round, schedules the
 * retry of what failed, and dead-letters what cannot succeed.
 */
export class DeliveryRunner {
  /** Handlers running now, with when they started (performance.now()); the reclaimer reads it. */
  readonly inFlight = new Map<Delivery, number>();
  private readonly metricsByType = new Map<string, Map<string, TypeTally>>();
  private readonly slots: Semaphore;
  private readonly group: string;
  private readonly consumer: string;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly retry: RetryPolicy;
  private readonly claimTimeoutMs: number;

  constructor(
    private readonly runtime: ConsumerRuntime,
    private readonly resolveHandler: HandlerResolver,
    private readonly dedupe: EventDedupe | undefined,
  ) {
    ({
      group: this.group,
      consumer: this.consumer,
      concurrency: this.concurrency,
      maxAttempts: this.maxAttempts,
      retry: this.retry,
      claimTimeoutMs: this.claimTimeoutMs,
    } = runtime.settings);
    this.slots = new Semaphore(this.concurrency);
  }

  /** Runs a batch with bounded concurrency, then acknowledges what succeeded in one pipeline. */
  async handleBatch(deliveries: Delivery[]): Promise<void> {
    await this.acknowledge(await this.runBatch(deliveries));
  }

  /**
   * Runs a batch with bounded concurrency; resolves once every handler has finished, with the entry
   * ids to acknowledge (those that succeeded), by stream. Sending them is the caller's: acknowledge()
   * or, from the read loop, ahead of its next XREADGROUP.
   */
  async runBatch(deliveries: Delivery[]): Promise<Acks> {
    const acks: Acks = new Map();
    let next = 0;
    const worker = async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++];
        if (!this.slots.tryAcquire()) await this.slots.acquire();
        try {
          const pending = this.process(delivery);
          const outcome = typeof pending === 'string' ? pending : await pending;
          if (outcome === 'ack') {
            const ids = acks.get(delivery.stream);
            if (ids) ids.push(delivery.entryId);
            else acks.set(delivery.stream, [delivery.entryId]);
          }
        } finally {
          this.slots.release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, deliveries.length) }, worker));
    this.flushCounters();
    return acks;
  }

  /** Sends the XACKs on the commands connection; a failure is logged (the entries are reclaimed). */
  async acknowledge(acks: Acks): Promise<void> {
    if (acks.size === 0) return;
    try {
      // One XACK per stream, all written before any reply is awaited: pipelined on the wire without
      // the cost of an ioredis Pipeline object per batch.
      await Promise.all(
        [...acks].map(([stream, ids]) => this.runtime.redis.xack(stream, this.group, ...ids)),
      );
    } catch (error) {
      this.ackFailed(error as Error);
    }
  }

  /** The entries stay pending and come back through XAUTOCLAIM; idempotent handlers absorb the repeat. */
  ackFailed(error: Error): void {
    this.runtime.logger.error(`XACK failed, entries will be redelivered: ${error.message}`);
  }

  /**
   * Decodes, routes and runs one entry. A synchronous handler completes without a promise (most
   * no-op and in-memory handlers), which keeps the per-entry cost near that of a raw read loop.
   */
  private process(delivery: Delivery): Outcome | Promise<Outcome> {
    const { stream, entryId } = delivery;
    const fields = delivery.fields;
    let event: EventEnvelope;
    try {
      // Straight from the entry's field list: no map is built per entry.
      event = decodeEnvelope(fields);
    } catch (error) {
      // Retrying cannot repair an entry that is not an event: dead-letter it at once.
      if (!(error instanceof EnvelopeDecodeError)) throw error;
      return this.deadLetter(delivery, error.message, 'undecodable');
    }
    const tally = this.typeMetrics(stream, event.type);
    const handler = this.resolveHandler(event.type);
    if (!handler) {
      // No handler in this group means the group does not care about the type (for instance a newer
      // event type): acknowledge it so it does not sit pending forever, and count it.
      tally.unhandled += 1;
      return 'ack';
    }
    const ctx: StreamEventContext = {
      stream,
      entryId,
      group: this.group,
      consumer: this.consumer,
      deliveryCount: delivery.deliveryCount,
      event,
    };
    const run: Running = { delivery, event, tally, startedAt: performance.now() };
    const handlerContext = withCorrelation(event.correlationid, extractTraceContext(fields));
    let result: unknown;
    try {
      const dedupe = this.dedupe;
      // The handler runs in the event's trace and with its correlation id, so every log line it
      // writes carries both.
      result = dedupe
        ? context.with(handlerContext, () =>
            dedupe.once(this.group, event.id, async () => {
              await handler(event, ctx);
            }),
          )
        : context.with(handlerContext, handler, undefined, event, ctx);
    } catch (error) {
      return this.failed(run, error);
    }
    if (!isThenable(result)) return this.succeeded(run, true);
    // Only a handler still running after its synchronous part can be seen in flight: the reclaimer
    // (keep-alive, reclaim) runs on other ticks, so a synchronous handler needs no entry here.
    this.inFlight.set(delivery, run.startedAt);
    return Promise.resolve(result).then(
      (ran) => this.succeeded(run, this.dedupe ? ran === true : true),
      (error: unknown) => this.failed(run, error),
    );
  }

  private finish(run: Running): void {
    run.tally.seconds.observe((performance.now() - run.startedAt) / 1000);
    this.inFlight.delete(run.delivery);
  }

  private succeeded(run: Running, ran: boolean): Outcome {
    this.finish(run);
    if (ran) run.tally.handled += 1;
    else run.tally.duplicates += 1;
    return 'ack';
  }

  private async failed(run: Running, error: unknown): Promise<Outcome> {
    this.finish(run);
    run.tally.failed += 1;
    const { delivery, event } = run;
    const reason = error instanceof Error ? error.message : String(error);
    if (delivery.deliveryCount >= this.maxAttempts) {
      return this.deadLetter(delivery, reason, 'max_attempts');
    }
    await this.scheduleRetry(delivery);
    this.runtime.logger.warn(
      `${event.type} ${event.id} (${delivery.stream} ${delivery.entryId}) failed on delivery ${delivery.deliveryCount}: ${reason}`,
    );
    return 'pending';
  }

  // prom-client hashes the label set on every inc(); counting per batch and adding once keeps that
  // off the per-entry path (the counters lag by at most one batch).
  private typeMetrics(stream: string, type: string): TypeTally {
    let byType = this.metricsByType.get(stream);
    if (!byType) {
      byType = new Map();
      this.metricsByType.set(stream, byType);
    }
    let tally = byType.get(type);
    if (!tally) {
      const labels = { stream, group: this.group, type };
      tally = {
        labels,
        seconds: this.runtime.metrics.handlerSeconds.labels(labels),
        handled: 0,
        failed: 0,
        unhandled: 0,
        duplicates: 0,
      };
      byType.set(type, tally);
    }
    return tally;
  }

  private flushCounters(): void {
    for (const tally of [...this.metricsByType.values()].flatMap((byType) => [...byType.values()])) {
      if (tally.handled) this.runtime.metrics.handled.inc(tally.labels, tally.handled);
      if (tally.failed) this.runtime.metrics.failed.inc(tally.labels, tally.failed);
      if (tally.unhandled) this.runtime.metrics.unhandled.inc(tally.labels, tally.unhandled);
      if (tally.duplicates) this.runtime.metrics.duplicates.inc(tally.labels, tally.duplicates);
      tally.handled = tally.failed = tally.unhandled = tally.duplicates = 0;
    }
  }

  /**
   * Makes a failed entry eligible for XAUTOCLAIM after retryDelayMs: the reclaimer takes entries idle
   * for claimTimeoutMs, so the entry's idle time is set to claimTimeoutMs − delay.
   */
  private async scheduleRetry(delivery: Delivery): Promise<void> {
    const delay = retryDelayMs(delivery.deliveryCount, this.retry);
    try {
      await refreshClaims(
        this.runtime,
        delivery.stream,
        [delivery.entryId],
        Math.max(0, this.claimTimeoutMs - delay),
      );
    } catch (error) {
      // Without the back-dating the entry still comes back, only after the full claim timeout.
      this.runtime.logger.warn(
        `could not schedule the retry of ${delivery.entryId}: ${(error as Error).message}`,
      );
    }
  }

  async deadLetter(
    delivery: Delivery,
    error: string,
    reason: 'undecodable' | 'max_attempts',
  ): Promise<Outcome> {
    try {
      await moveToDeadLetters(
        this.runtime.redis,
        {
          stream: delivery.stream,
          entryId: delivery.entryId,
          group: this.group,
          consumer: this.consumer,
          attempts: delivery.deliveryCount,
          error,
        },
        delivery.fields,
        this.runtime.settings.deadLetterStream,
      );
      this.runtime.metrics.deadLettered.inc({ stream: delivery.stream, group: this.group, reason });
      this.runtime.logger.warn(`dead-lettered ${delivery.stream} ${delivery.entryId} (${reason}): ${error}`);
      return 'settled';
    } catch (moveError) {
      // Still pending: a later reclaim sees the delivery count above maxAttempts and tries again.
      this.runtime.logger.error(`could not dead-letter ${delivery.entryId}: ${(moveError as Error).message}`);
      return 'pending';
    }
  }
}
