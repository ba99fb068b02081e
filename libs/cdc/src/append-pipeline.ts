import { BACKOFF, backoffDelayMs } from '@choreo/redis';
import type Redis from 'ioredis';
import type { RelayEvent } from './relay-events';
import type { RelayMetrics } from './relay-metrics';
import { appendNewer, packBatch } from './stream-appender';
import type { AssembledBatch } from './transaction-assembly';

/** Where log lines go; Nest's Logger and pino both fit. */
export interface RelayLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

interface AppendInFlight {
  done: Promise<void>;
  /** Confirmable once this batch and all before it are held by Redis. */
  commitEnd: bigint;
  settled: boolean;
}

/** The last batch sent to a stream: the next one must not land before it. */
interface SentBatch {
  position: string;
  done: Promise<void>;
}

/** Batches sent to Redis and not yet acknowledged, at most (bounded memory, ordered confirms). */
const MAX_APPENDS_IN_FLIGHT = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before retrying after the n-th failure (counted from 0): BACKOFF.relaySession. */
export const relayBackoffMs = (attempt: number) => backoffDelayMs(attempt + 1, BACKOFF.relaySession);

export interface AppendPorts {
  readonly redis: Redis;
  readonly metrics: RelayMetrics;
  readonly logger: RelayLogger;
  /** Called, in order, with the commit end of each batch once it and every batch before it are held. */
  confirm(commitEnd: bigint): void;
  /** True once the relay stops: an append that keeps failing then gives up (the next start replays). */
  stopping(): boolean;
}

/**
 * Appends batches to their streams through the high-water-mark script without waiting for them (up to
 * MAX_APPENDS_IN_FLIGHT batches are pipelined, so decoding overlaps Redis' fsync), and confirms each
 * batch's `commitEnd` only once it and every batch before it are in Redis. A failed append is retried
 * until Redis holds it; the marks make a repeat harmless.
 */
export class AppendPipeline {
  private inFlight: AppendInFlight[] = [];
  private lastSent = new Map<string, SentBatch>();

  constructor(private readonly ports: AppendPorts) {}

  /** A new session replays from the confirmed LSN: nothing sent before it is waited on. */
  reset(): void {
    this.inFlight = [];
    this.lastSent.clear();
  }

  /** Nothing sent is still waiting for Redis. */
  get idle(): boolean {
    return this.inFlight.length === 0;
  }

  /** Sends a batch; resolves once it is on its way and the pipeline has room for the next one. */
  async send({ events, commitEnd, commitTimeMicros }: AssembledBatch): Promise<void> {
    const byStream = new Map<string, RelayEvent[]>();
    for (const event of events) {
      const sameStream = byStream.get(event.stream);
      if (sameStream) sameStream.push(event);
      else byStream.set(event.stream, [event]);
    }
    // Only the packed bytes are held while a batch is in flight: thousands of event objects kept
    // alive across young-generation collections were copied by each of them.
    const appends = [...byStream].map(([stream, streamEvents]) => {
      const previous = this.lastSent.get(stream);
      const append = this.appendUntilHeld(stream, packBatch(streamEvents), previous);
      this.lastSent.set(stream, { position: streamEvents[streamEvents.length - 1].position, done: append });
      return append;
    });
    const eventCount = events.length;
    const entry: AppendInFlight = { done: Promise.resolve(), commitEnd, settled: false };
    entry.done = Promise.all(appends).then(() => {
      entry.settled = true;
      if (commitTimeMicros > 0n && eventCount > 0) {
        this.ports.metrics.lagSeconds.set(Math.max(0, Date.now() / 1000 - Number(commitTimeMicros) / 1e6));
      }
      this.confirmSettled();
    });
    entry.done.catch(() => undefined); // awaited by drain; this only keeps Node from warning early
    this.inFlight.push(entry);
    while (this.inFlight.length > MAX_APPENDS_IN_FLIGHT) await this.inFlight[0].done;
  }

  /** Waits until everything sent to Redis is held there, and confirmed. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[0].done;
  }

  /** Confirms, in order, the batches at the head of the queue that Redis has acknowledged. */
  private confirmSettled(): void {
    while (this.inFlight[0]?.settled) {
      const [settled] = this.inFlight.splice(0, 1);
      this.ports.confirm(settled.commitEnd);
    }
  }

  private async appendUntilHeld(
    stream: string,
    packed: Buffer,
    previous: SentBatch | undefined,
  ): Promise<void> {
    const { redis, metrics, logger } = this.ports;
    for (let attempt = 0; ; attempt++) {
      const timer = metrics.appendSeconds.startTimer();
      try {
        const { appended, skipped } = await appendNewer(redis, stream, packed, previous?.position);
        timer();
        if (appended > 0) metrics.events.inc({ stream }, appended);
        if (skipped > 0) {
          metrics.duplicatesSkipped.inc({ stream }, skipped);
          logger.log(`cdc: ${stream} already held ${skipped} replayed event(s), skipped`);
        }
        return;
      } catch (error) {
        if (this.ports.stopping() && attempt > 3) throw error;
        const message = (error as Error).message;
        if (!message.startsWith('GAP')) logger.warn(`cdc: append to ${stream} failed, retrying: ${message}`);
        await sleep(relayBackoffMs(attempt));
      }
    }
  }
}
