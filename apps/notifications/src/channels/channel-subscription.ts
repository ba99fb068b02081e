import { ChannelRef, judgeOffset } from '@choreo/contracts';
import type { LiveFrame } from './channel-keys';
import type { ChannelListener } from './channel-hub';

/** Where a subscription's frames go: the connection's bounded send queue. */
export interface FrameSink {
  /** Queues a frame; a coalesce key lets a newer state frame replace a queued one. */
  enqueue(text: string, coalesceKey?: string): void;
}

/** Runs the Centrifugo-style sync for a subscription (ChannelSync). */
export interface SubscriptionSyncer {
  repair(subscription: ChannelSubscription): Promise<void>;
}

export interface SubscriptionStats {
  duplicates: number;
  gaps: number;
}

/**
 * One connection's hold on one channel. Until it is in sync it buffers what pub/sub brings; after,
 * it forwards publications whose offset is `last + 1`, drops duplicates, and on a gap goes back to
 * buffering and repairs from history.
 */
export class ChannelSubscription implements ChannelListener {
  last: number | undefined;
  epoch = '';
  /** Frames received while syncing; null once in sync. */
  buffer: LiveFrame[] | null = [];
  closed = false;
  /** When the subscription's token expires (ms), and whether `expiring` was sent. */
  expiresAt: number | undefined;
  warned = false;
  private repairing = false;

  constructor(
    readonly channel: string,
    readonly ref: ChannelRef,
    private readonly sink: FrameSink,
    private readonly syncer: SubscriptionSyncer,
    private readonly stats: SubscriptionStats,
  ) {}

  receive(frame: LiveFrame): void {
    if (this.closed) return;
    if (this.buffer) {
      this.buffer.push(frame);
      return;
    }
    const verdict = judgeOffset(this.last, frame);
    if (verdict === 'duplicate') {
      this.stats.duplicates++;
      return;
    }
    if (verdict === 'gap') {
      this.stats.gaps++;
      this.buffer = [frame];
      this.repair();
      return;
    }
    this.deliver(frame);
  }

  /** Sends a frame that is in order and moves the position. */
  deliver(frame: LiveFrame): void {
    if (frame.offset !== undefined) this.last = frame.offset;
    this.sink.enqueue(frame.text, frame.key === undefined ? undefined : `${this.channel}\n${frame.key}`);
  }

  /** Sends a frame of the protocol (subscribed, snapshot) on this channel. */
  send(text: string): void {
    this.sink.enqueue(text);
  }

  repair(): void {
    if (this.closed || this.repairing) return;
    this.repairing = true;
    if (!this.buffer) this.buffer = [];
    void this.syncer.repair(this).finally(() => {
      this.repairing = false;
    });
  }
}
