import type Redis from 'ioredis';
import { encodeEnvelope, Streams } from '@choreo/contracts';

let emitted = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * XADDs `events` aggregate values to the `aggregates` stream, round-robin over `channels` from the
 * first, at `rate` a second (0: pipelined as fast as Redis takes them). Each carries `sent_at` for
 * the entry → frame latency and an id of its own (the notifications path drops a repeated id).
 */
export async function emitToStream(
  redis: Redis,
  channels: readonly string[],
  events: number,
  rate: number,
): Promise<void> {
  const started = Date.now();
  for (let sent = 0; sent < events; ) {
    const due = rate === 0 ? sent + 500 : Math.floor(((Date.now() - started) / 1000) * rate);
    const pipeline = redis.pipeline();
    for (; sent < Math.min(due, events); sent++) {
      const rule = channels[sent % channels.length].slice('aggregates:'.length);
      pipeline.xadd(
        Streams.aggregates,
        '*',
        ...encodeEnvelope({
          id: `bench-${process.pid}-${emitted++}`,
          type: 'aggregate.updated',
          source: 'bench',
          subject: rule,
          time: new Date().toISOString(),
          data: { rule, value: sent, sent_at: Date.now() },
        }),
      );
    }
    await pipeline.exec();
    if (rate > 0) await sleep(5);
  }
}
