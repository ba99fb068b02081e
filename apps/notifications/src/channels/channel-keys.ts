/**
 * Where a channel lives in Redis. Every key of a channel, and its pub/sub channel, share one hash
 * tag (`{order:…}`), so each script touches one slot and runs on Redis Cluster too.
 */
export interface ChannelKeys {
  /** Hash: `epoch`, `last` (the last offset published). */
  meta: string;
  /** Stream: the bounded history, entry id `<offset>-0`, fields `f` (the frame) and `t` (ms). */
  history: string;
  /** Hash: the latest frame of each state key (courier position, aggregate window), and `<key>#t`. */
  state: string;
  /** Sorted set: ids of the events published lately (dedupe for channels with assigned offsets). */
  seen: string;
  /** The (sharded) pub/sub channel the replicas holding this channel listen on. */
  pubsub: string;
}

const PREFIX = 'rt:';

export function channelKeys(channel: string): ChannelKeys {
  const tag = `${PREFIX}{${channel}}`;
  return { meta: `${tag}:m`, history: `${tag}:h`, state: `${tag}:s`, seen: `${tag}:d`, pubsub: tag };
}

/** The channel name back from its pub/sub channel; undefined for anything else. */
export function channelOfPubsub(pubsub: string): string | undefined {
  if (!pubsub.startsWith(`${PREFIX}{`) || !pubsub.endsWith('}')) return undefined;
  return pubsub.slice(PREFIX.length + 1, -1);
}

/**
 * A live message on a channel: `<offset>\t<key>\t<published ms>\t<frame>` (offset empty for state,
 * key empty for none).
 */
export interface LiveFrame {
  offset?: number;
  key?: string;
  /** When the publish script ran (Redis clock, ms): for the publish → send latency. */
  publishedAt?: number;
  /** The publication frame, JSON text, sent to clients as is. */
  text: string;
}

/** Reads a pub/sub message without parsing the frame's JSON (one split per message and replica). */
export function parseLiveMessage(message: string): LiveFrame | undefined {
  const first = message.indexOf('\t');
  const second = first < 0 ? -1 : message.indexOf('\t', first + 1);
  const third = second < 0 ? -1 : message.indexOf('\t', second + 1);
  if (third < 0) return undefined;
  const offsetText = message.slice(0, first);
  const key = message.slice(first + 1, second);
  const frame: LiveFrame = {
    text: message.slice(third + 1),
    publishedAt: Number(message.slice(second + 1, third)),
  };
  if (offsetText !== '') frame.offset = Number(offsetText);
  if (key !== '') frame.key = key;
  return frame;
}
