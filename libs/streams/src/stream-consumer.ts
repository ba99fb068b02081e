import { decodeEnvelope, EnvelopeDecodeError, EventEnvelope, fieldMap, Streams } from '@choreo/contracts';
import { extractTraceContext, metricsRegistry, withCorrelation } from '@choreo/observability';
import { Logger } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { deleteIdleConsumers } from './consumer-pruning';
import { moveToDeadLetters } from './dead-letters';
import { EventDedupe, EventDedupeOptions } from './event-dedupe';
import { createRedis, isNoGroupError } from './redis-client';
import { BACKOFF, backoffDelayMs, DEFAULT_RETRY_POLICY, retryDelayMs, RetryPolicy } from './backoff';
import { Semaphore } from './semaphore';
import { trimConsumedEntries } from './stream-trimming';
import { StreamsMetrics } from './streams-metrics';

/** Where an event came from and how often it has been delivered: what a handler may ask about. */
export interface StreamEventContext {
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  /** 1 on the first delivery; a reclaim after a failure or a crash adds one. */
  deliveryCount: number;
  event: EventEnvelope;
}

/** Handles one event. Resolving acknowledges the entry; throwing leaves it pending for a retry. */
export type StreamEventHandler = (event: EventEnvelope, ctx: StreamEventContext) => unknown;

/** Finds the handler for an event type; undefined means the entry is acknowledged unhandled. */
export type HandlerResolver = (type: string) => StreamEventHandler | undefined;

/** Where the consumer reports what it does; Nest's Logger (pino in the apps) by default. */
export interface StreamsLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}

export interface StreamConsumerOptions {
  redisUrl: string;
  group: string;
  /** Stable across restarts of the same pod; `<group>-<hostname>` by default. */
  consumer?: string;
  streams: readonly string[];
  /** Handlers running at once, over new and reclaimed entries together. Default 16. */
  concurrency?: number;
  /** Entries fetched per XREADGROUP. Default 100. */
  batchSize?: number;
  /** How long XREADGROUP blocks when the streams are idle. Default 2000. */
  blockMs?: number;
  /** Deliveries before an entry is dead-lettered (a crash mid-handler counts as one). Default 5. */
  maxAttempts?: number;
  /** Delay before a failed entry is retried; see retryDelayMs. maxMs is capped at claimTimeoutMs. */
  retry?: Partial<RetryPolicy>;
  /** How often XAUTOCLAIM looks for entries to reclaim. Default 1000. */
  claimIntervalMs?: number;
  /**
   * An entry whose consumer has neither acknowledged it nor kept it alive for this long is taken over
   * by a live consumer (a crashed or stalled one). Running handlers refresh their claim every third of
   * it. Default 30000.
   */
  claimTimeoutMs?: number;
  /** Entries per XAUTOCLAIM call. Default 100. */
  claimBatchSize?: number;
  /** Where the group starts when it is created: `0` (the whole stream, default) or `$` (only new entries). */
  groupStartId?: string;
  /** Skip redeliveries of an event id already handled by this group (`SET NX EX`). Off by default. */
  dedupe?: EventDedupeOptions | boolean;
  /** How often pending/lag gauges are sampled; 0 turns sampling off. Default 5000. */
  metricsIntervalMs?: number;
  /** How often consumed entries are trimmed (trimConsumedEntries); 0 (default) leaves it to someone else. */
  trimIntervalMs?: number;
  /**
   * Consumers of the group with nothing pending and idle this long (pods that are gone) are deleted,
   * checked every minute; 0 turns it off. Default 3600000 (one hour).
   */
  pruneConsumersIdleMs?: number;
  /** How long stop() waits for the batch in hand to finish before closing anyway. Default 10000. */
  drainTimeoutMs?: number;
  deadLetterStream?: string;
  registry?: Registry;
  logger?: StreamsLogger;
}

interface Delivery {
  stream: string;
  entryId: string;
  fields: string[];
  deliveryCount: number;
}

type Outcome = 'ack' | 'pending' | 'settled';

type ReadOutcome = { deliveries: Delivery[] } | { error: Error };

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

async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

// Refreshes the claim of entries this consumer still owns and sets their idle time. Checking the owner
// first matters: XCLAIM with min-idle 0 would otherwise take an entry back from a consumer that
// legitimately reclaimed it, and the event would run twice at once. JUSTID keeps the delivery count.
const REFRESH_CLAIM = `
local kept = 0
for i = 4, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #entry == 1 and entry[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
    kept = kept + 1
  end
end
return kept`;

/**
 * A consumer-group runner over Redis Streams: reads in batches, runs handlers with bounded concurrency,
 * acknowledges in pipelined XACKs, retries failures through XAUTOCLAIM with a growing delay, dead-letters
 * what cannot succeed, and keeps going through Redis restarts. Knows nothing of Nest.
 */
export class StreamConsumer {
  readonly group: string;
  readonly consumer: string;
  readonly streams: readonly string[];
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly maxAttempts: number;
  private readonly retry: RetryPolicy;
  private readonly claimIntervalMs: number;
  private readonly claimTimeoutMs: number;
  private readonly claimBatchSize: number;
  private readonly metricsIntervalMs: number;
  private readonly trimIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly pruneConsumersIdleMs: number;
  private lastPruneAt = 0;
  private readonly deadLetterStream: string;
  private readonly metrics: StreamsMetrics;
  private readonly logger: StreamsLogger;
  private readonly slots: Semaphore;
  private readonly readerName: string;

  private commands?: Redis;
  private reader?: Redis;
  private dedupe?: EventDedupe;
  private readonly claimCursors = new Map<string, string>();
  private readonly metricsByType = new Map<string, Map<string, TypeTally>>();
  /** Handlers running now, with when they started (performance.now()). */
  private readonly inFlight = new Map<Delivery, number>();
  private stopping = false;
  private readonly stopReading = new AbortController();
  private readonly stopKeepAlive = new AbortController();
  private loops: Promise<void>[] = [];
  private keepAliveLoop?: Promise<void>;

  constructor(
    private readonly options: StreamConsumerOptions,
    private readonly resolveHandler: HandlerResolver,
  ) {
    if (options.streams.length === 0) throw new Error('a stream consumer needs at least one stream');
    this.group = options.group;
    this.consumer = options.consumer ?? `${options.group}-${os.hostname()}`;
    this.streams = [...options.streams];
    this.concurrency = options.concurrency ?? 16;
    this.batchSize = options.batchSize ?? 100;
    this.blockMs = options.blockMs ?? 2_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.claimIntervalMs = options.claimIntervalMs ?? 1_000;
    this.claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
    this.claimBatchSize = options.claimBatchSize ?? 100;
    this.metricsIntervalMs = options.metricsIntervalMs ?? 5_000;
    this.trimIntervalMs = options.trimIntervalMs ?? 0;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    this.pruneConsumersIdleMs = options.pruneConsumersIdleMs ?? 3_600_000;
    this.deadLetterStream = options.deadLetterStream ?? Streams.deadLetters;
    const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    // A retry is scheduled by back-dating the entry's idle time against the claim timeout, so no delay
    // can be longer than the timeout itself.
    this.retry = { ...retry, maxMs: Math.min(retry.maxMs, this.claimTimeoutMs) };
    this.metrics = StreamsMetrics.for(options.registry ?? metricsRegistry());
    this.logger = options.logger ?? new Logger(`StreamConsumer ${this.group}`);
    this.slots = new Semaphore(this.concurrency);
    this.readerName = `choreo:${this.group}:${this.consumer}:reader:${randomUUID().slice(0, 8)}`;
    if (this.maxAttempts < 1) throw new RangeError('maxAttempts must be at least 1');
  }

  /** Creates the groups (idempotently) and starts reading; resolves once the groups exist. */
  async start(): Promise<void> {
    this.commands = createRedis(this.options.redisUrl, 'worker', {
      connectionName: `choreo:${this.group}:${this.consumer}`,
    });
    // A separate connection for XREADGROUP BLOCK, so acks and claims never wait behind a blocked read.
    this.reader = createRedis(this.options.redisUrl, 'worker', { connectionName: this.readerName });
    for (const connection of [this.commands, this.reader]) {
      connection.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    }
    if (this.options.dedupe) {
      this.dedupe = new EventDedupe(this.commands, this.options.dedupe === true ? {} : this.options.dedupe);
    }
    try {
      await this.ensureGroups();
    } catch (error) {
      // A stream key holding another type (WRONGTYPE) and the like: fail start, leave nothing open.
      this.commands.disconnect();
      this.reader.disconnect();
      this.commands = undefined;
      throw error;
    }
    this.loops = [this.readLoop(), this.reclaimLoop()];
    if (this.metricsIntervalMs > 0) this.loops.push(this.metricsLoop());
    if (this.trimIntervalMs > 0) this.loops.push(this.trimLoop());
    this.keepAliveLoop = this.keepClaimsAlive();
  }

  /**
   * Graceful stop: no new reads or claims, the batch in hand finishes and is acknowledged, then the
   * consumer is removed from its groups if it owns no pending entry, and the connections close.
   */
  async stop(): Promise<void> {
    if (this.stopping || !this.commands) return;
    this.stopping = true;
    this.stopReading.abort();
    await this.unblockReader();
    const drained = await settlesWithin(Promise.allSettled(this.loops), this.drainTimeoutMs);
    if (!drained) {
      // Whatever is still running stays pending in Redis and is reclaimed by a live consumer.
      this.logger.warn(`handlers still running after ${this.drainTimeoutMs} ms; closing without them`);
    }
    this.stopKeepAlive.abort();
    await this.keepAliveLoop;
    await this.deleteConsumerIfIdle();
    await Promise.allSettled([this.commands.quit(), this.reader?.quit()]);
  }

  private async ensureGroups(): Promise<void> {
    for (const stream of this.streams) {
      try {
        await this.redis.xgroup('CREATE', stream, this.group, this.options.groupStartId ?? '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
      }
    }
  }

  private get redis(): Redis {
    if (!this.commands) throw new Error('the consumer has not been started');
    return this.commands;
  }

  /**
   * Reads one batch ahead: while a batch runs, the next XREADGROUP is already on its way, so the round
   * trip overlaps the handlers. At most two batches are ever delivered and unacknowledged; on stop the
   * one read ahead is handled too, since it is already pending on this consumer.
   */
  private async readLoop(): Promise<void> {
    let failures = 0;
    let next: Promise<ReadOutcome> | undefined = this.readBatch();
    while (next) {
      const outcome: ReadOutcome = await next;
      if ('error' in outcome) {
        if (this.stopping) break;
        failures += 1;
        this.logger.warn(`XREADGROUP failed (attempt ${failures}): ${outcome.error.message}`);
        // A Redis that came back empty (no AOF) lost the groups: recreate them rather than spin.
        if (isNoGroupError(outcome.error)) await this.ensureGroups().catch(() => undefined);
        await this.pause(backoffDelayMs(failures, BACKOFF.readLoop), this.stopReading.signal);
        next = this.stopping ? undefined : this.readBatch();
        continue;
      }
      failures = 0;
      next = this.stopping ? undefined : this.readBatch();
      if (outcome.deliveries.length > 0) {
        await this.handleBatch(outcome.deliveries).catch((error: Error) => this.reportBug(error));
      }
    }
  }

  private readBatch(): Promise<ReadOutcome> {
    return (this.reader as Redis)
      .xreadgroup(
        'GROUP',
        this.group,
        this.consumer,
        'COUNT',
        this.batchSize,
        'BLOCK',
        this.blockMs,
        'STREAMS',
        ...this.streams,
        ...this.streams.map(() => '>'),
      )
      .then(
        (reply): ReadOutcome => ({ deliveries: parseReadReply(reply) }),
        (error: unknown): ReadOutcome => ({
          error: error instanceof Error ? error : new Error(String(error)),
        }),
      );
  }

  /** Runs a batch with bounded concurrency, then acknowledges what succeeded in one pipeline. */
  private async handleBatch(deliveries: Delivery[]): Promise<void> {
    const acks = new Map<string, string[]>();
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
    await this.acknowledge(acks);
  }

  private async acknowledge(acks: Map<string, string[]>): Promise<void> {
    if (acks.size === 0) return;
    try {
      // One XACK per stream, all written before any reply is awaited: pipelined on the wire without
      // the cost of an ioredis Pipeline object per batch.
      await Promise.all([...acks].map(([stream, ids]) => this.redis.xack(stream, this.group, ...ids)));
    } catch (error) {
      // The entries stay pending and come back through XAUTOCLAIM; idempotent handlers absorb the repeat.
      this.logger.error(`XACK failed, entries will be redelivered: ${(error as Error).message}`);
    }
  }

  /**
   * Decodes, routes and runs one entry. A synchronous handler completes without a promise (most
   * no-op and in-memory handlers), which keeps the per-entry cost near that of a raw read loop.
   */
  private process(delivery: Delivery): Outcome | Promise<Outcome> {
    const { stream, entryId } = delivery;
    const fields = fieldMap(delivery.fields);
    let event: EventEnvelope;
    try {
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
    this.inFlight.set(delivery, run.startedAt);
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
    this.logger.warn(
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
        seconds: this.metrics.handlerSeconds.labels(labels),
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
      if (tally.handled) this.metrics.handled.inc(tally.labels, tally.handled);
      if (tally.failed) this.metrics.failed.inc(tally.labels, tally.failed);
      if (tally.unhandled) this.metrics.unhandled.inc(tally.labels, tally.unhandled);
      if (tally.duplicates) this.metrics.duplicates.inc(tally.labels, tally.duplicates);
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
      await this.refreshClaims(delivery.stream, [delivery.entryId], Math.max(0, this.claimTimeoutMs - delay));
    } catch (error) {
      // Without the back-dating the entry still comes back, only after the full claim timeout.
      this.logger.warn(`could not schedule the retry of ${delivery.entryId}: ${(error as Error).message}`);
    }
  }

  private async refreshClaims(stream: string, entryIds: string[], idleMs: number): Promise<number> {
    return (await this.redis.eval(
      REFRESH_CLAIM,
      1,
      stream,
      this.group,
      this.consumer,
      String(idleMs),
      ...entryIds,
    )) as number;
  }

  private async deadLetter(
    delivery: Delivery,
    error: string,
    reason: 'undecodable' | 'max_attempts',
  ): Promise<Outcome> {
    try {
      await moveToDeadLetters(
        this.redis,
        {
          stream: delivery.stream,
          entryId: delivery.entryId,
          group: this.group,
          consumer: this.consumer,
          attempts: delivery.deliveryCount,
          error,
        },
        delivery.fields,
        this.deadLetterStream,
      );
      this.metrics.deadLettered.inc({ stream: delivery.stream, group: this.group, reason });
      this.logger.warn(`dead-lettered ${delivery.stream} ${delivery.entryId} (${reason}): ${error}`);
      return 'settled';
    } catch (moveError) {
      // Still pending: a later reclaim sees the delivery count above maxAttempts and tries again.
      this.logger.error(`could not dead-letter ${delivery.entryId}: ${(moveError as Error).message}`);
      return 'pending';
    }
  }

  private async reclaimLoop(): Promise<void> {
    while (!this.stopping) {
      for (const stream of this.streams) {
        if (this.stopping) break;
        try {
          await this.reclaimStalled(stream);
        } catch (error) {
          if (isNoGroupError(error)) await this.ensureGroups().catch(() => undefined);
          this.logger.warn(`XAUTOCLAIM on ${stream} failed: ${(error as Error).message}`);
        }
      }
      await this.pruneGoneConsumers();
      await this.pause(this.claimIntervalMs, this.stopReading.signal);
    }
  }

  private async pruneGoneConsumers(): Promise<void> {
    if (this.pruneConsumersIdleMs <= 0 || this.stopping || Date.now() - this.lastPruneAt < 60_000) return;
    this.lastPruneAt = Date.now();
    for (const stream of this.streams) {
      try {
        const deleted = await deleteIdleConsumers(this.redis, stream, this.group, {
          minIdleMs: this.pruneConsumersIdleMs,
        });
        if (deleted.length > 0)
          this.logger.log(`removed gone consumers from ${stream}: ${deleted.join(', ')}`);
      } catch (error) {
        this.logger.warn(`could not prune consumers of ${stream}: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Takes over entries idle for claimTimeoutMs (failed and due for a retry, or owned by a crashed
   * consumer) and runs them. The cursor is carried between calls so a long pending list is scanned to
   * its end instead of its head being claimed again and again.
   */
  private async reclaimStalled(stream: string): Promise<void> {
    const cursor = this.claimCursors.get(stream) ?? '0-0';
    const [nextCursor, claimed, deletedIds] = (await this.redis.xautoclaim(
      stream,
      this.group,
      this.consumer,
      this.claimTimeoutMs,
      cursor,
      'COUNT',
      this.claimBatchSize,
    )) as [string, [string, string[] | null][], string[] | undefined];
    this.claimCursors.set(stream, nextCursor);
    // Entries deleted from the stream while pending (XDEL, trimming by someone else): nothing to run.
    if (deletedIds && deletedIds.length > 0) await this.redis.xack(stream, this.group, ...deletedIds);
    const running = new Set<string>();
    for (const delivery of this.inFlight.keys())
      if (delivery.stream === stream) running.add(delivery.entryId);
    const live = claimed.filter(
      (entry): entry is [string, string[]] => entry[1] !== null && !running.has(entry[0]),
    );
    if (live.length === 0) return;
    this.metrics.retried.inc({ stream, group: this.group }, live.length);
    const counts = await this.deliveryCounts(
      stream,
      live.map(([id]) => id),
    );
    const deliveries: Delivery[] = [];
    for (const [entryId, fields] of live) {
      const deliveryCount = counts.get(entryId) ?? this.maxAttempts + 1;
      const delivery = { stream, entryId, fields, deliveryCount };
      if (deliveryCount > this.maxAttempts) {
        // Every earlier delivery ended without an ack or a recorded failure: the handler crashed or
        // hung the consumer. Running it again would likely do the same.
        await this.deadLetter(
          delivery,
          `not acknowledged after ${deliveryCount - 1} deliveries (consumer crashed or stalled)`,
          'max_attempts',
        );
      } else {
        deliveries.push(delivery);
      }
    }
    if (deliveries.length > 0)
      await this.handleBatch(deliveries).catch((error: Error) => this.reportBug(error));
  }

  private async deliveryCounts(stream: string, entryIds: string[]): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const id of entryIds) pipeline.xpending(stream, this.group, id, id, 1);
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
    const every = Math.max(10, Math.floor(this.claimTimeoutMs / 3));
    while (!this.stopKeepAlive.signal.aborted) {
      await this.pause(every, this.stopKeepAlive.signal);
      const byStream = new Map<string, string[]>();
      const threshold = performance.now() - every;
      for (const [{ stream, entryId }, startedAt] of this.inFlight) {
        if (startedAt > threshold) continue;
        byStream.set(stream, [...(byStream.get(stream) ?? []), entryId]);
      }
      for (const [stream, ids] of byStream) {
        try {
          await this.refreshClaims(stream, ids, 0);
        } catch (error) {
          this.logger.warn(`could not refresh claims on ${stream}: ${(error as Error).message}`);
        }
      }
    }
  }

  private async metricsLoop(): Promise<void> {
    while (!this.stopping) {
      await this.sampleGroupMetrics().catch((error: Error) =>
        this.logger.warn(`could not sample stream metrics: ${error.message}`),
      );
      await this.pause(this.metricsIntervalMs, this.stopReading.signal);
    }
  }

  /** Samples pending count, lag and oldest pending age of this group on each of its streams. */
  async sampleGroupMetrics(): Promise<void> {
    for (const stream of this.streams) {
      const pipeline = this.redis.pipeline();
      pipeline.xinfo('GROUPS', stream);
      pipeline.xpending(stream, this.group);
      const [[infoError, groups], [pendingError, summary]] = (await pipeline.exec()) ?? [];
      if (infoError) throw infoError;
      if (pendingError) throw pendingError;
      const labels = { stream, group: this.group };
      const info = (groups as unknown[][]).map((g) => fieldMap(g.map(String)));
      const ours = info.find((g) => g['name'] === this.group);
      const [pending, oldestId] = summary as [number, string | null];
      this.metrics.pending.set(labels, Number(pending));
      // XINFO reports lag as nil when it cannot tell (after deletions); leave the gauge as it was then.
      const lag = ours?.['lag'];
      if (lag !== undefined && lag !== 'null') this.metrics.lag.set(labels, Number(lag));
      const oldestMs = oldestId ? Number(oldestId.split('-')[0]) : undefined;
      this.metrics.oldestPendingSeconds.set(
        labels,
        oldestMs === undefined ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000),
      );
    }
  }

  private async trimLoop(): Promise<void> {
    while (!this.stopping) {
      await this.pause(this.trimIntervalMs, this.stopReading.signal);
      for (const stream of this.streams) {
        if (this.stopping) break;
        await trimConsumedEntries(this.redis, stream, { approximate: true }).catch((error: Error) =>
          this.logger.warn(`could not trim ${stream}: ${error.message}`),
        );
      }
    }
  }

  // CLIENT UNBLOCK makes the blocked XREADGROUP return as if it timed out, so stop() does not wait up to
  // blockMs. The reader's id is looked up by its unique name because reconnects change it.
  private async unblockReader(): Promise<void> {
    try {
      const clients = (await this.redis.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
      for (const line of clients.split('\n')) {
        if (!line.includes(` name=${this.readerName} `)) continue;
        const id = /^id=(\d+)/.exec(line)?.[1];
        if (id) await this.redis.client('UNBLOCK', id);
      }
    } catch (error) {
      this.logger.warn(`could not unblock the reader, waiting for its timeout: ${(error as Error).message}`);
    }
  }

  private async deleteConsumerIfIdle(): Promise<void> {
    for (const stream of this.streams) {
      try {
        await deleteIdleConsumers(this.redis, stream, this.group, { consumer: this.consumer });
      } catch (error) {
        this.logger.warn(
          `could not remove consumer ${this.consumer} from ${stream}: ${(error as Error).message}`,
        );
      }
    }
  }

  // Handler errors are outcomes, not exceptions; reaching here is a bug in this class. The entries stay
  // pending and are reclaimed, and the loop goes on: a consumer that dies silently is worse.
  private reportBug(error: Error): void {
    this.logger.error(`unexpected error while handling a batch: ${error.message}`, error.stack);
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  }
}

function parseReadReply(reply: unknown): Delivery[] {
  if (!reply) return [];
  const deliveries: Delivery[] = [];
  for (const [stream, entries] of reply as [string, [string, string[] | null][]][]) {
    for (const [entryId, fields] of entries) {
      if (fields) deliveries.push({ stream, entryId, fields, deliveryCount: 1 });
    }
  }
  return deliveries;
}
