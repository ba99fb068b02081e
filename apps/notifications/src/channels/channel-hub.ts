import type Redis from 'ioredis';
import { channelKeys, channelOfPubsub, LiveFrame, parseLiveMessage } from './channel-keys';

/** Whoever holds a channel on this replica: a connection's subscription. */
export interface ChannelListener {
  receive(frame: LiveFrame): void;
  /** The replica may have missed publications (pub/sub was down): re-read history. */
  repair(): void;
}

export interface ChannelHubOptions {
  /** This replica's id, for its probe channel. */
  replicaId: string;
  /** How often the pub/sub probe is published (default 1000 ms). */
  probeIntervalMs?: number;
  /** No probe back for this long marks pub/sub down (default 3000 ms). */
  probeTimeoutMs?: number;
  onProbeState?: (up: boolean) => void;
  /** Each channel message's age on arrival (ms since the publish script ran). */
  onLatency?: (ms: number) => void;
}

/**
 * This replica's end of the fan-out: one (sharded) pub/sub connection carrying every channel some
 * local connection holds, refcounted. A probe published through the command connection every second
 * proves the subscription still delivers; when it stops arriving the replica is not ready, and once
 * it is back every held channel is repaired from history (messages published meanwhile were lost).
 */
export class ChannelHub {
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  /** Each held channel's SSUBSCRIBE reply: once it resolves, every publication reaches the listeners. */
  private readonly subscribed = new Map<string, Promise<void>>();
  private readonly probeChannel: string;
  private lastProbeAt = Date.now();
  private up = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly probeIntervalMs: number;
  private readonly probeTimeoutMs: number;
  /** Pub/sub messages received, and ones that were not a channel frame. */
  readonly stats = { messages: 0, malformed: 0, repairs: 0 };

  constructor(
    private readonly subscriber: Redis,
    private readonly publisher: Redis,
    private readonly options: ChannelHubOptions,
  ) {
    this.probeChannel = channelKeys(`probe:${options.replicaId}`).pubsub;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 3000;
    subscriber.on('smessage', (pubsub: string, message: string) => this.dispatch(pubsub, message));
    subscriber.on('close', () => this.setUp(false));
  }

  async start(): Promise<void> {
    await this.subscriber.ssubscribe(this.probeChannel);
    this.lastProbeAt = Date.now();
    this.timer = setInterval(() => this.probe(), this.probeIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Whether pub/sub delivers (the probe came back lately). */
  get ready(): boolean {
    return this.up;
  }

  get channelCount(): number {
    return this.listeners.size;
  }

  /** Adds a listener; resolves once this replica's pub/sub subscription to the channel is in force. */
  async join(channel: string, listener: ChannelListener): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    // The SSUBSCRIBE reply is the point after which every publication arrives. Once a channel's
    // subscription is in force, a listener added to its set receives everything dispatched from then
    // on, so later joiners await the same reply instead of sending one each (a storm of resumes on
    // one channel is one SSUBSCRIBE, not thousands).
    let inForce = this.subscribed.get(channel);
    if (!inForce) {
      const pending = this.subscriber.ssubscribe(channelKeys(channel).pubsub).then(() => undefined);
      this.subscribed.set(channel, (inForce = pending));
      pending.catch(() => {
        if (this.subscribed.get(channel) === pending) this.subscribed.delete(channel);
      });
    }
    await inForce;
  }

  leave(channel: string, listener: ChannelListener): void {
    const set = this.listeners.get(channel);
    if (!set?.delete(listener) || set.size > 0) return;
    this.listeners.delete(channel);
    this.subscribed.delete(channel);
    this.subscriber.sunsubscribe(channelKeys(channel).pubsub).catch(() => undefined);
  }

  private dispatch(pubsub: string, message: string): void {
    if (pubsub === this.probeChannel) {
      this.lastProbeAt = Date.now();
      this.setUp(true);
      return;
    }
    this.stats.messages++;
    const channel = channelOfPubsub(pubsub);
    const frame = parseLiveMessage(message);
    const set = channel === undefined ? undefined : this.listeners.get(channel);
    if (!frame) {
      this.stats.malformed++;
      return;
    }
    if (frame.publishedAt) this.options.onLatency?.(Date.now() - frame.publishedAt);
    if (set) for (const listener of set) listener.receive(frame);
  }

  private probe(): void {
    if (Date.now() - this.lastProbeAt > this.probeTimeoutMs) this.setUp(false);
    this.publisher.spublish(this.probeChannel, 'probe').catch(() => this.setUp(false));
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    // Down: what was in force may no longer be; joins subscribe anew until repairAll has run.
    if (!up) this.subscribed.clear();
    this.options.onProbeState?.(up);
    if (up) void this.repairAll();
  }

  private async repairAll(): Promise<void> {
    // ioredis resubscribed on reconnect; subscribing once more makes sure it is in force before reading.
    const channels = [...this.listeners.keys()];
    try {
      if (channels.length > 0)
        await this.subscriber.ssubscribe(...channels.map((c) => channelKeys(c).pubsub));
    } catch {
      this.setUp(false);
      return;
    }
    this.stats.repairs++;
    for (const channel of channels)
      if (this.listeners.has(channel) && !this.subscribed.has(channel))
        this.subscribed.set(channel, Promise.resolve());
    for (const channel of channels)
      for (const listener of this.listeners.get(channel) ?? []) listener.repair();
  }
}
