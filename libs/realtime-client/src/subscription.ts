import {
  ErrorFrame,
  judgeOffset,
  PublicationFrame,
  SnapshotFrame,
  StreamPosition,
  SubscribedFrame,
} from '@choreo/contracts';

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';

export interface SubscriptionHandlers {
  /** Each publication of the channel once, in offset order (state publications as they come). */
  onPublication?: (publication: PublicationFrame) => void;
  /** The channel's state replaced what the subscription held (after `recovered: false`). */
  onSnapshot?: (snapshot: SnapshotFrame) => void;
  /** Every `subscribed` reply, first subscribe and each resume (`recovered` tells which path it took). */
  onSubscribed?: (frame: SubscribedFrame) => void;
  /** The server refused or ended the subscription (bad token, unknown channel …). */
  onError?: (error: ErrorFrame) => void;
}

export interface SubscribeOptions extends SubscriptionHandlers {
  /** Tracking token (order channels) or bearer token (where the server requires one). */
  token?: string;
  /** Resume after this position (a reload that kept what it had seen). */
  since?: StreamPosition;
}

/** One channel the client follows; it lives across reconnects until unsubscribe() is called. */
export class Subscription {
  state: SubscriptionState = 'subscribing';
  token: string | undefined;
  /** The last offset applied, and the channel's epoch: what a resume sends as `since`. */
  position: StreamPosition | undefined;
  /** Publications dropped as duplicates, and gaps that made the client resubscribe. */
  readonly stats = { applied: 0, duplicates: 0, gaps: 0, snapshots: 0, resumes: 0 };

  constructor(
    readonly channel: string,
    options: SubscribeOptions,
    private readonly detach: (subscription: Subscription) => void,
    /** Asks the client to subscribe again from `position` (after a gap). */
    readonly resubscribe: (subscription: Subscription) => void,
  ) {
    this.token = options.token;
    this.position = options.since;
    this.handlers = options;
  }

  private readonly handlers: SubscriptionHandlers;

  /** Stops following the channel. */
  unsubscribe(): void {
    if (this.state === 'unsubscribed') return;
    this.state = 'unsubscribed';
    this.detach(this);
  }

  /** @internal */
  handleSubscribed(frame: SubscribedFrame): void {
    this.state = 'subscribed';
    if (frame.follows === 'replay') {
      const start = frame.replay_after ?? this.position?.offset ?? frame.offset;
      this.position = position(start, frame.epoch);
    }
    this.handlers.onSubscribed?.(frame);
  }

  /** @internal */
  handlePublication(frame: PublicationFrame): void {
    if (this.state !== 'subscribed') return;
    const verdict = judgeOffset(this.position?.offset, frame);
    if (verdict === 'duplicate') {
      this.stats.duplicates++;
      return;
    }
    if (verdict === 'gap') {
      // The server repairs gaps itself; seeing one means its repair failed: ask again from what we hold.
      this.stats.gaps++;
      this.state = 'subscribing';
      this.resubscribe(this);
      return;
    }
    if (frame.offset !== undefined)
      this.position = position(frame.offset, frame.epoch ?? this.position?.epoch);
    this.stats.applied++;
    this.handlers.onPublication?.(frame);
  }

  /** @internal */
  handleSnapshot(frame: SnapshotFrame): void {
    this.position = position(frame.offset, frame.epoch);
    this.stats.snapshots++;
    this.handlers.onSnapshot?.(frame);
  }

  /** @internal */
  handleError(frame: ErrorFrame): void {
    this.state = 'failed';
    this.handlers.onError?.(frame);
  }
}

// A channel nothing was published on yet has no epoch: the server says `""`, and a resume names none
// (any epoch's history from offset 1 makes a client that holds nothing whole). Sending `""` back
// would be refused as an invalid `since`, and the subscription would fail instead of resuming.
function position(offset: number, epoch: string | undefined): StreamPosition {
  return epoch ? { offset, epoch } : { offset };
}
