import type { EventEnvelope } from '@choreo/contracts';
import { Streams } from '@choreo/contracts';
import type { Registry } from 'prom-client';
import os from 'node:os';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from './retry-policy';
import type { EventDedupeOptions } from './event-dedupe';
import type { DeadLetterRetention } from './dead-letter-retention';

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
  /**
   * Apply this retention to `deadLetterStream` and sample its gauges (length, oldest age). Off by
   * default: one app owns it (events), though replicas running it at once are harmless.
   */
  deadLetterRetention?: DeadLetterRetention;
  registry?: Registry;
  logger?: StreamsLogger;
}

/** The options with their defaults applied: what the parts of a consumer read. */
export interface ConsumerSettings {
  group: string;
  consumer: string;
  streams: readonly string[];
  concurrency: number;
  batchSize: number;
  blockMs: number;
  maxAttempts: number;
  retry: RetryPolicy;
  claimIntervalMs: number;
  claimTimeoutMs: number;
  claimBatchSize: number;
  metricsIntervalMs: number;
  trimIntervalMs: number;
  drainTimeoutMs: number;
  pruneConsumersIdleMs: number;
  deadLetterStream: string;
  deadLetterRetention: Required<DeadLetterRetention> | undefined;
}

/** Applies the defaults documented on StreamConsumerOptions and checks what cannot work. */
export function consumerSettings(options: StreamConsumerOptions): ConsumerSettings {
  if (options.streams.length === 0) throw new Error('a stream consumer needs at least one stream');
  const claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const settings: ConsumerSettings = {
    group: options.group,
    consumer: options.consumer ?? `${options.group}-${os.hostname()}`,
    streams: [...options.streams],
    concurrency: options.concurrency ?? 16,
    batchSize: options.batchSize ?? 100,
    blockMs: options.blockMs ?? 2_000,
    maxAttempts: options.maxAttempts ?? 5,
    // A retry is scheduled by back-dating the entry's idle time against the claim timeout, so no delay
    // can be longer than the timeout itself.
    retry: { ...retry, maxMs: Math.min(retry.maxMs, claimTimeoutMs) },
    claimIntervalMs: options.claimIntervalMs ?? 1_000,
    claimTimeoutMs,
    claimBatchSize: options.claimBatchSize ?? 100,
    metricsIntervalMs: options.metricsIntervalMs ?? 5_000,
    trimIntervalMs: options.trimIntervalMs ?? 0,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    pruneConsumersIdleMs: options.pruneConsumersIdleMs ?? 3_600_000,
    deadLetterStream: options.deadLetterStream ?? Streams.deadLetters,
    deadLetterRetention: options.deadLetterRetention && {
      intervalMs: 30_000,
      ...options.deadLetterRetention,
    },
  };
  if (settings.maxAttempts < 1) throw new RangeError('maxAttempts must be at least 1');
  return settings;
}
