import type { ChannelRef, StreamPosition, SubscribedFrame } from '@choreo/contracts';
import type { LiveFrame } from './channel-keys';
import type { ChannelHub } from './channel-hub';
import { ChannelRead, ChannelStore, SEQUENCE_EPOCH } from './channel-store';
import type { ChannelSubscription, SubscriptionSyncer } from './channel-subscription';
import { mergeReplay } from './recovery';

/** An order's state from the read model, for snapshots. */
export interface OrderSnapshotSource {
  orderSnapshot(orderId: string): Promise<{ sequence: number; data: unknown } | undefined>;
}

export type SyncOutcome = 'recovered' | 'snapshot';

type Plan = { kind: 'replay'; after: number } | { kind: 'snapshot' };

/**
 * Which way a subscription is made whole. Order channels always replay from the offset held (0
 * for a new subscription: the whole timeline); entity channels start live at the top when new;
 * aggregate channels start from a snapshot of the latest values. A lost or too short history, or
 * a changed epoch, means a snapshot: never a partial replay.
 */
export function planSync(ref: ChannelRef, since: StreamPosition | undefined, read: ChannelRead): Plan {
  if (ref.kind === 'order') {
    const after = since?.offset ?? 0;
    return read.outcome === 'ok' ? { kind: 'replay', after } : { kind: 'snapshot' };
  }
  if (since === undefined) {
    if (ref.kind === 'aggregates') return { kind: 'snapshot' };
    return { kind: 'replay', after: read.outcome === 'fresh' ? read.last : 0 };
  }
  if (read.outcome === 'ok') return { kind: 'replay', after: since.offset };
  if (read.outcome === 'empty' && since.offset === 0) return { kind: 'replay', after: 0 };
  return { kind: 'snapshot' };
}

/**
 * The Centrifugo sync (centrifugal/centrifuge `internal/recovery`): subscribe to live first and
 * buffer, read the history after the position held, merge, drop duplicates, check contiguity, then
 * flush and go live. When the history cannot make the client whole, a snapshot from the read model
 * does, followed by what came after it.
 */
export class ChannelSync implements SubscriptionSyncer {
  constructor(
    private readonly hub: ChannelHub,
    private readonly store: ChannelStore,
    private readonly orders: OrderSnapshotSource,
  ) {}

  /** Joins the channel and makes the subscription whole; sends `subscribed` and what follows. */
  async subscribe(
    sub: ChannelSubscription,
    ref: ChannelRef,
    since: StreamPosition | undefined,
    reply: { id?: number; expiresAt?: string },
  ): Promise<SyncOutcome> {
    sub.buffer = [];
    return this.exclusive(sub, async () => {
      await this.hub.join(sub.channel, sub);
      return this.sync(sub, ref, since, reply);
    });
  }

  /**
   * Re-reads history after the position the subscription holds (a gap, or pub/sub came back). While
   * Redis cannot answer (restarting, loading its AOF) it tries again: the subscription buffers
   * meanwhile, so nothing is lost and nothing goes out of order.
   */
  async repair(sub: ChannelSubscription): Promise<void> {
    for (let attempt = 0; !sub.closed; attempt++) {
      try {
        await this.exclusive(sub, () => {
          // Buffer from here: what arrives during the read is merged, not sent ahead of it.
          sub.buffer ??= [];
          const since =
            sub.last === undefined ? undefined : { offset: sub.last, epoch: sub.epoch || undefined };
          return this.sync(sub, sub.ref, since, undefined);
        });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  // One sync at a time per subscription: a repair that starts while a subscribe is still syncing
  // waits for it, then reads from the position it left, so no frame is sent twice.
  private readonly running = new WeakMap<ChannelSubscription, Promise<unknown>>();

  private async exclusive<T>(sub: ChannelSubscription, work: () => Promise<T>): Promise<T> {
    const previous = this.running.get(sub);
    const next = (previous ?? Promise.resolve()).catch(() => undefined).then(work);
    this.running.set(sub, next);
    try {
      return await next;
    } finally {
      if (this.running.get(sub) === next) this.running.delete(sub);
    }
  }

  private async sync(
    sub: ChannelSubscription,
    ref: ChannelRef,
    since: StreamPosition | undefined,
    reply: { id?: number; expiresAt?: string } | undefined,
  ): Promise<SyncOutcome> {
    for (let attempt = 1; ; attempt++) {
      const epochFilter = ref.kind === 'order' ? undefined : since?.epoch;
      const read = await this.store.read(
        sub.channel,
        ref.kind === 'order' ? (since?.offset ?? 0) : since?.offset,
        epochFilter,
      );
      if (sub.closed) return 'recovered';
      const plan = planSync(ref, since, read);
      const epoch = ref.kind === 'order' ? SEQUENCE_EPOCH : read.epoch;
      if (plan.kind === 'replay') {
        const state = ref.kind === 'order' ? read.state : [];
        const merged = mergeReplay(plan.after, [...read.history, ...state], this.takeBuffer(sub));
        if (merged) {
          if (reply)
            this.sendSubscribed(sub, reply, {
              recovered: true,
              follows: 'replay',
              epoch,
              offset: merged.last,
              replay_after: plan.after,
            });
          this.goLive(sub, epoch, merged.frames, merged.last);
          return 'recovered';
        }
      } else {
        const snapshot = await this.snapshot(ref, read);
        if (sub.closed) return 'snapshot';
        const state = ref.kind === 'order' ? read.state : [];
        const after = [...read.history.filter((f) => (f.offset ?? 0) > snapshot.offset), ...state];
        const merged = mergeReplay(snapshot.offset, after, this.takeBuffer(sub));
        if (merged) {
          const position = since?.offset ?? (ref.kind === 'order' ? 0 : undefined);
          if (
            reply &&
            position === snapshot.offset &&
            snapshot.offset === merged.last &&
            ref.kind !== 'aggregates'
          ) {
            // The client already holds the channel's state: nothing to replay, nothing to reload.
            this.sendSubscribed(sub, reply, {
              recovered: true,
              follows: 'replay',
              epoch,
              offset: merged.last,
              replay_after: position,
            });
          } else {
            if (reply)
              this.sendSubscribed(sub, reply, {
                recovered: false,
                follows: 'snapshot',
                epoch,
                offset: merged.last,
              });
            sub.send(
              JSON.stringify({
                type: 'snapshot',
                channel: sub.channel,
                epoch,
                offset: snapshot.offset,
                data: snapshot.data,
              }),
            );
          }
          this.goLive(sub, epoch, merged.frames, merged.last);
          return position === snapshot.offset ? 'recovered' : 'snapshot';
        }
      }
      // A publication went missing between the read and the buffer: read again (bounded).
      if (attempt >= 3) throw new Error(`channel ${sub.channel}: could not make a contiguous replay`);
    }
  }

  private takeBuffer(sub: ChannelSubscription): LiveFrame[] {
    const buffered = sub.buffer ?? [];
    sub.buffer = [];
    return buffered;
  }

  private goLive(sub: ChannelSubscription, epoch: string, frames: LiveFrame[], last: number): void {
    sub.epoch = epoch;
    sub.last = last;
    for (const frame of frames) sub.deliver(frame);
    sub.last = last;
    // Anything buffered since the merge is judged like live traffic now.
    const late = sub.buffer ?? [];
    sub.buffer = null;
    for (const frame of late) sub.receive(frame);
  }

  private sendSubscribed(
    sub: ChannelSubscription,
    reply: { id?: number; expiresAt?: string },
    fields: Pick<SubscribedFrame, 'recovered' | 'follows' | 'epoch' | 'offset' | 'replay_after'>,
  ): void {
    const frame: SubscribedFrame = {
      type: 'subscribed',
      id: reply.id,
      channel: sub.channel,
      ...fields,
      expires_at: reply.expiresAt,
    };
    sub.send(JSON.stringify(frame));
  }

  private async snapshot(ref: ChannelRef, read: ChannelRead): Promise<{ offset: number; data: unknown }> {
    if (ref.kind === 'order') {
      const order = await this.orders.orderSnapshot(ref.orderId);
      return order ? { offset: order.sequence, data: order.data } : { offset: 0, data: null };
    }
    if (ref.kind === 'aggregates') {
      const values: Record<string, unknown> = {};
      for (const frame of read.state) {
        if (frame.key !== undefined) values[frame.key] = (JSON.parse(frame.text) as { data: unknown }).data;
      }
      return { offset: read.last, data: { values } };
    }
    return { offset: read.last, data: null };
  }
}
