import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { channelKeys, LiveFrame } from './channel-keys';
import { PUBLISH_SCRIPT, READ_SCRIPT } from './channel-scripts';

export interface HistoryRetention {
  /** Entries kept per channel at least (default 1000). */
  minEntries: number;
  /** Age an entry is kept at least, ms (default 10 minutes). */
  minAgeMs: number;
  /** An idle channel's keys expire after this many seconds (default one day). */
  idleTtlSeconds: number;
}

export const DEFAULT_RETENTION: HistoryRetention = {
  minEntries: 1000,
  minAgeMs: 10 * 60_000,
  idleTtlSeconds: 24 * 3600,
};

/** The epoch of `order:<id>` channels: their offsets are PostgreSQL sequences, never reused. */
export const SEQUENCE_EPOCH = 'seq';

export type PublishOutcome = 'published' | 'duplicate' | 'gap' | 'stale';

export interface PublishResult {
  outcome: PublishOutcome;
  offset: number;
  epoch: string;
}

/** What the publication frame says besides channel, offset, epoch and key. */
export interface PublicationBody {
  event: string;
  id?: string;
  time?: string;
  data: unknown;
}

export type ReadOutcome = 'empty' | 'fresh' | 'ok' | 'epoch' | 'uncovered' | 'ahead';

export interface ChannelRead {
  outcome: ReadOutcome;
  epoch: string;
  last: number;
  /** The latest frame of each state key. */
  state: LiveFrame[];
  /** The publications after `since` (outcome ok), in offset order. */
  history: LiveFrame[];
}

type Reply = [string, number | string, string];
type ReadReply = [string, string, number, string[], string[]];
interface ChannelCommands {
  rtPublish(...args: (string | number)[]): Promise<Reply>;
  rtRead(...args: (string | number)[]): Promise<ReadReply>;
}

/**
 * A channel's history, state and fan-out in Redis, each write one atomic script (PUBLISH_SCRIPT)
 * and each read one (READ_SCRIPT).
 */
export class ChannelStore {
  private readonly redis: Redis & ChannelCommands;

  constructor(
    redis: Redis,
    private readonly retention: HistoryRetention = DEFAULT_RETENTION,
  ) {
    if (!('rtPublish' in redis)) {
      redis.defineCommand('rtPublish', { numberOfKeys: 4, lua: PUBLISH_SCRIPT });
      redis.defineCommand('rtRead', { numberOfKeys: 3, lua: READ_SCRIPT });
    }
    this.redis = redis as Redis & ChannelCommands;
  }

  /** Publishes an order's event at its sequence: only `last + 1` goes out (see PUBLISH_SCRIPT). */
  publishSequenced(channel: string, sequence: number, body: PublicationBody): Promise<PublishResult> {
    return this.publish('seq', channel, body, { offset: sequence, epoch: SEQUENCE_EPOCH });
  }

  /** Publishes at the channel's next offset; `eventId` makes a redelivery a duplicate. `key`: keyed state. */
  publishNext(channel: string, body: PublicationBody, eventId: string, key?: string): Promise<PublishResult> {
    return this.publish('next', channel, body, { eventId, key, epoch: randomBytes(6).toString('base64url') });
  }

  /** Publishes state outside the sequence (latest event time wins). */
  publishState(channel: string, key: string, body: PublicationBody, timeMs: number): Promise<PublishResult> {
    return this.publish('state', channel, body, { key, timeMs });
  }

  /** Everything a subscription needs, read atomically (see READ_SCRIPT). */
  async read(channel: string, since: number | undefined, epoch: string | undefined): Promise<ChannelRead> {
    const keys = channelKeys(channel);
    const [outcome, currentEpoch, last, state, history] = await this.redis.rtRead(
      keys.meta,
      keys.history,
      keys.state,
      since === undefined ? '' : since,
      epoch ?? '',
      this.retention.minEntries * 10,
    );
    const stateFrames: LiveFrame[] = [];
    for (let i = 0; i + 1 < state.length; i += 2) {
      if (!state[i].endsWith('#t')) stateFrames.push({ key: state[i], text: state[i + 1] });
    }
    const historyFrames: LiveFrame[] = [];
    for (let i = 0; i + 1 < history.length; i += 2) {
      historyFrames.push({ offset: Number(history[i]), text: history[i + 1] });
    }
    return {
      outcome: outcome as ReadOutcome,
      epoch: currentEpoch,
      last: Number(last),
      state: stateFrames,
      history: historyFrames,
    };
  }

  private async publish(
    mode: 'seq' | 'next' | 'state',
    channel: string,
    body: PublicationBody,
    options: {
      offset?: number;
      epoch?: string;
      key?: string;
      eventId?: string;
      timeMs?: number;
    },
  ): Promise<PublishResult> {
    const keys = channelKeys(channel);
    const [outcome, offset, epoch] = await this.redis.rtPublish(
      keys.meta,
      keys.history,
      keys.state,
      keys.seen,
      mode,
      options.offset ?? 0,
      JSON.stringify(channel),
      frameTail(body),
      Date.now(),
      this.retention.minEntries,
      this.retention.minAgeMs,
      this.retention.idleTtlSeconds,
      keys.pubsub,
      options.epoch ?? '',
      0,
      options.key ?? '',
      options.eventId ?? '',
      options.timeMs ?? 0,
    );
    return { outcome: outcome as PublishOutcome, offset: Number(offset), epoch };
  }
}

/** The publication frame after its head: `"event":…,"data":…}` (the script writes the head). */
function frameTail(body: PublicationBody): string {
  const tail: Record<string, unknown> = { event: body.event };
  if (body.id !== undefined) tail['id'] = body.id;
  if (body.time !== undefined) tail['time'] = body.time;
  tail['data'] = body.data;
  return JSON.stringify(tail).slice(1);
}
