import { metricsRegistry } from '@choreo/observability';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BACKOFF, backoffDelayMs } from '@choreo/redis';
import { deleteIdleConsumers } from './consumer-pruning';
import {
  ConsumerSettings,
  consumerSettings,
  HandlerResolver,
  StreamConsumerOptions,
  StreamsLogger,
} from './consumer-options';
import { ConsumerRuntime, Delivery, pause } from './consumer-runtime';
import type { RetentionResult } from './dead-letter-retention';
import { Acks, DeliveryRunner } from './delivery-runner';
import { EventDedupe } from './event-dedupe';
import { GroupUpkeep } from './group-upkeep';
import { Reclaimer } from './reclaimer';
import { createRedis } from '@choreo/redis';
import { isNoGroupError } from './redis-connection';
import { StreamsMetrics } from './streams-metrics';

export type {
  HandlerResolver,
  StreamConsumerOptions,
  StreamEventContext,
  StreamEventHandler,
  StreamsLogger,
} from './consumer-options';

type ReadOutcome = { deliveries: Delivery[] } | { error: Error };

async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The parts of a started consumer. */
interface Parts {
  runtime: ConsumerRuntime;
  delivery: DeliveryRunner;
  reclaimer: Reclaimer;
  upkeep: GroupUpkeep;
}

/**
 * A consumer-group runner over Redis Streams: reads in batches, runs handlers with bounded concurrency,
 * acknowledges in pipelined XACKs, retries failures through XAUTOCLAIM with a growing delay, dead-letters
 * what cannot succeed, and keeps going through Redis restarts. Knows nothing of Nest.
 *
 * This class owns the connections, the read loop and the lifecycle; the work is in three parts:
 * DeliveryRunner (handle, ack, retry, dead-letter), Reclaimer (XAUTOCLAIM and keep-alive) and
 * GroupUpkeep (gauges, trimming, pruning gone consumers).
 */
export class StreamConsumer {
  readonly group: string;
  readonly consumer: string;
  readonly streams: readonly string[];
  private readonly settings: ConsumerSettings;
  private readonly metrics: StreamsMetrics;
  private readonly logger: StreamsLogger;
  private readonly readerName: string;

  private commands?: Redis;
  private reader?: Redis;
  private parts?: Parts;
  private stopping = false;
  private readonly stopReading = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly options: StreamConsumerOptions,
    private readonly resolveHandler: HandlerResolver,
  ) {
    this.settings = consumerSettings(options);
    ({ group: this.group, consumer: this.consumer, streams: this.streams } = this.settings);
    this.metrics = StreamsMetrics.for(options.registry ?? metricsRegistry());
    this.logger = options.logger ?? new Logger(`StreamConsumer ${this.group}`);
    this.readerName = `choreo:${this.group}:${this.consumer}:reader:${randomUUID().slice(0, 8)}`;
  }

  /** Creates the groups (idempotently) and starts reading; resolves once the groups exist. */
  async start(): Promise<void> {
    const commands = createRedis(this.options.redisUrl, 'worker', {
      connectionName: `choreo:${this.group}:${this.consumer}`,
    });
    this.commands = commands;
    // A separate connection for XREADGROUP BLOCK, so acks and claims never wait behind a blocked read.
    this.reader = createRedis(this.options.redisUrl, 'worker', { connectionName: this.readerName });
    for (const connection of [commands, this.reader]) {
      connection.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    }
    try {
      await this.ensureGroups();
    } catch (error) {
      // A stream key holding another type (WRONGTYPE) and the like: fail start, leave nothing open.
      commands.disconnect();
      this.reader.disconnect();
      this.commands = undefined;
      throw error;
    }
    const runtime: ConsumerRuntime = {
      settings: this.settings,
      redis: commands,
      logger: this.logger,
      metrics: this.metrics,
      stopping: this.stopReading.signal,
      ensureGroups: () => this.ensureGroups(),
    };
    const dedupe = this.options.dedupe
      ? new EventDedupe(commands, this.options.dedupe === true ? {} : this.options.dedupe)
      : undefined;
    const delivery = new DeliveryRunner(runtime, this.resolveHandler, dedupe);
    const reclaimer = new Reclaimer(runtime, delivery, (error) => this.reportBug(error));
    const upkeep = new GroupUpkeep(runtime);
    this.parts = { runtime, delivery, reclaimer, upkeep };
    this.loops = [this.readLoop(delivery), reclaimer.reclaimLoop(), ...upkeep.loops()];
    reclaimer.startKeepingAlive();
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
    const drained = await settlesWithin(Promise.allSettled(this.loops), this.settings.drainTimeoutMs);
    if (!drained) {
      // Whatever is still running stays pending in Redis and is reclaimed by a live consumer.
      this.logger.warn(
        `handlers still running after ${this.settings.drainTimeoutMs} ms; closing without them`,
      );
    }
    await this.parts?.reclaimer.stopKeepingAlive();
    await this.deleteConsumerIfIdle();
    await Promise.allSettled([this.commands.quit(), this.reader?.quit()]);
  }

  /** Samples pending count, lag and oldest pending age of this group on each of its streams. */
  async sampleGroupMetrics(): Promise<void> {
    if (!this.parts) throw new Error('the consumer has not been started');
    await this.parts.upkeep.sampleGroupMetrics();
  }

  /** One dead-letter retention pass now (see StreamConsumerOptions.deadLetterRetention). */
  async applyDeadLetterRetention(): Promise<RetentionResult> {
    if (!this.parts) throw new Error('the consumer has not been started');
    return this.parts.upkeep.applyDeadLetterRetention();
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
   * trip overlaps the handlers. Likewise a batch's XACKs travel while the next batch runs (one batch's
   * acks in flight at most), so at most three batches are ever delivered and unacknowledged: one whose
   * acks are on their way, the one running and the one read ahead. On stop the one read ahead is
   * handled too, since it is already pending on this consumer, and the loop ends once its acks landed.
   */
  private async readLoop(delivery: DeliveryRunner): Promise<void> {
    let failures = 0;
    let acknowledging: Promise<void> = Promise.resolve();
    let next: Promise<ReadOutcome> | undefined = this.readBatch();
    while (next) {
      const outcome: ReadOutcome = await next;
      if ('error' in outcome) {
        if (this.stopping) break;
        failures += 1;
        this.logger.warn(`XREADGROUP failed (attempt ${failures}): ${outcome.error.message}`);
        // A Redis that came back empty (no AOF) lost the groups: recreate them rather than spin.
        if (isNoGroupError(outcome.error)) await this.ensureGroups().catch(() => undefined);
        await pause(backoffDelayMs(failures, BACKOFF.readLoop), this.stopReading.signal);
        next = this.stopping ? undefined : this.readBatch();
        continue;
      }
      failures = 0;
      next = this.stopping ? undefined : this.readBatch();
      if (outcome.deliveries.length === 0) continue;
      let acks: Acks | undefined;
      try {
        acks = await delivery.runBatch(outcome.deliveries);
      } catch (error) {
        this.reportBug(error as Error);
      }
      await acknowledging;
      if (acks) acknowledging = delivery.acknowledge(acks);
    }
    await acknowledging;
  }

  private readBatch(): Promise<ReadOutcome> {
    return (this.reader as Redis)
      .xreadgroup(
        'GROUP',
        this.group,
        this.consumer,
        'COUNT',
        this.settings.batchSize,
        'BLOCK',
        this.settings.blockMs,
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
