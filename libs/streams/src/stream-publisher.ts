import { encodeEnvelope, EventEnvelope } from '@choreo/contracts';
import { injectTraceContext } from '@choreo/observability';
import type Redis from 'ioredis';
import { publishScheduled, ScheduledPublishRequest } from './scheduled-publish';

/** One event bound for one stream. */
export interface PublishRequest {
  stream: string;
  event: EventEnvelope;
}

/** Thrown when some entries of a batch could not be appended; names each failed position. */
export class PublishBatchError extends Error {
  constructor(
    readonly failures: { index: number; stream: string; error: Error }[],
    readonly entryIds: (string | null)[],
  ) {
    super(
      `${failures.length} of ${entryIds.length} events were not published: ` +
        failures.map((f) => `#${f.index} → ${f.stream}: ${f.error.message}`).join('; '),
    );
    this.name = 'PublishBatchError';
  }
}

/** Appends events to streams as flat envelopes carrying the active trace context. */
export class StreamPublisher {
  constructor(private readonly redis: Redis) {}

  /** Appends one event; resolves to its stream entry id. */
  async publish(stream: string, event: EventEnvelope): Promise<string> {
    const entryId = await this.redis.xadd(stream, '*', ...encodeEnvelope(withTraceContext(event)));
    // XADD '*' without NOMKSTREAM/MAXLEN always returns an id; null would mean a protocol surprise.
    if (entryId === null) throw new Error(`XADD ${stream} returned no entry id`);
    return entryId;
  }

  /** Appends many events in one pipelined round trip; resolves to their entry ids in order. */
  async publishBatch(requests: readonly PublishRequest[]): Promise<string[]> {
    if (requests.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { stream, event } of requests) {
      pipeline.xadd(stream, '*', ...encodeEnvelope(withTraceContext(event)));
    }
    const replies = (await pipeline.exec()) ?? [];
    const entryIds: (string | null)[] = [];
    const failures: { index: number; stream: string; error: Error }[] = [];
    replies.forEach(([error, entryId], index) => {
      entryIds.push(error ? null : (entryId as string));
      if (error) failures.push({ index, stream: requests[index].stream, error });
    });
    if (failures.length > 0) throw new PublishBatchError(failures, entryIds);
    return entryIds as string[];
  }

  /**
   * Publishes events waiting in schedules (sorted sets), each exactly once: its member leaves the
   * schedule and the event joins its stream in one atomic step, so neither racing replicas nor a crash
   * at any point can append it twice or lose it. Resolves to the entry ids, null where the member was
   * already gone (published by another process, or unscheduled). Single Redis node only.
   */
  publishScheduled(requests: readonly ScheduledPublishRequest[]): Promise<(string | null)[]> {
    return publishScheduled(this.redis, requests, (event) => encodeEnvelope(withTraceContext(event)));
  }
}

// An event that already carries a trace context (a CDC event relaying the write's trace) keeps it;
// otherwise it joins the trace of whoever publishes it.
function withTraceContext(event: EventEnvelope): EventEnvelope {
  if (event.traceparent !== undefined) return event;
  const carrier = injectTraceContext({});
  const traceparent = carrier['traceparent'];
  if (traceparent === undefined) return event;
  return { ...event, traceparent, tracestate: carrier['tracestate'] ?? event.tracestate };
}
