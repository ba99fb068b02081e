import {
  ClientFrame,
  CloseCodes,
  ErrorFrame,
  parseChannel,
  parseClientFrame,
  RealtimeErrorCode,
  SubscribeFrame,
} from '@choreo/contracts';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { ChannelSubscription, FrameSink } from '../channels/channel-subscription';
import { SendQueue } from '../channels/send-queue';
import type { GatewayContext } from './gateway-context';

/** Frames held for one write at most (a header and a payload buffer each, under IOV_MAX). */
const MAX_FRAMES_PER_WRITE = 256;

/** Consecutive refused frames after which the connection is closed (4101). */
const MAX_REFUSED_IN_A_ROW = 20;

/**
 * One WebSocket client: its subscriptions, its bounded send queue, its limits. Frames go straight to
 * the socket while it keeps up; beyond the socket's high-water mark they wait in a SendQueue, and
 * past that queue's bound the connection closes with 4001 (slow: resume).
 */
export class RealtimeConnection implements FrameSink {
  subscriptions: Map<string, ChannelSubscription> | undefined;
  queue: SendQueue | undefined;
  lastHeardAt = Date.now();
  closed = false;
  private refusedInARow = 0;
  /** Bytes written this tick, held by the cork (TickWrites): not a backlog of the socket. */
  private heldBytes = 0;
  private heldFrames = 0;
  private heldTick = -1;
  private subscribeBudget: number;
  private budgetAt = Date.now();

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    private readonly ctx: GatewayContext,
    /** The TCP socket under `socket`, whose writes are coalesced per tick. */
    private readonly transport?: Duplex,
  ) {
    this.subscribeBudget = ctx.limits.subscribeBurst;
  }

  onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastHeardAt = Date.now();
    if (isBinary)
      return this.refuse({ code: 'binary_frame', message: 'frames must be JSON text, not binary' });
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
    if (size > this.ctx.limits.maxFrameBytes) {
      return this.refuse({
        code: 'frame_too_large',
        message: `a frame may hold ${this.ctx.limits.maxFrameBytes} bytes; this one had ${size}`,
      });
    }
    const parsed = parseClientFrame(String(data));
    if (!parsed.ok) return this.refuse(parsed.refusal);
    this.refusedInARow = 0;
    this.handle(parsed.frame);
  }

  /** Queues a frame for the client (FrameSink). */
  enqueue(text: string, coalesceKey?: string): void {
    if (this.closed) return;
    if (this.queue === undefined && this.backlog() < this.ctx.limits.socketHighWater) {
      this.write(text);
      return;
    }
    this.queue ??= new SendQueue(this.ctx.limits.sendQueue);
    const before = this.queue.coalesced;
    const within = this.queue.push(text, coalesceKey);
    if (this.queue.coalesced > before) this.ctx.metrics.framesCoalesced.inc();
    if (!within) this.closeSlow();
    else this.ctx.draining.add(this);
  }

  /** Moves queued frames to the socket while it is below its high-water mark; true when empty. */
  drain(): boolean {
    const queue = this.queue;
    if (!queue || this.closed) return true;
    while (this.backlog() < this.ctx.limits.socketHighWater) {
      const text = queue.shift();
      if (text === undefined) {
        this.queue = undefined;
        return true;
      }
      this.write(text);
    }
    return false;
  }

  // What the socket could not pass to the kernel yet: its buffer less what this tick's cork holds
  // (without the cork those bytes would have gone out at once, as they will at the tick's end).
  private backlog(): number {
    if (this.heldTick !== this.ctx.writes.tick) this.heldBytes = this.heldFrames = 0;
    return this.socket.bufferedAmount - this.heldBytes;
  }

  private write(text: string): void {
    const transport = this.transport;
    if (transport) {
      this.ctx.writes.hold(transport);
      this.heldTick = this.ctx.writes.tick;
      this.heldBytes += text.length; // at most its bytes (non-ASCII counts less): never hides a backlog
    }
    this.socket.send(text);
    this.ctx.metrics.framesSent.inc();
    if (transport && ++this.heldFrames >= MAX_FRAMES_PER_WRITE) {
      // One writev takes at most IOV_MAX (1024) buffers, two a frame: past that the rest would wait
      // for the socket and count as its backlog. Pass these on now and keep holding.
      transport.uncork();
      transport.cork();
      this.heldBytes = this.heldFrames = 0;
    }
  }

  send(frame: object): void {
    this.enqueue(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
    this.dispose();
  }

  /** Leaves every channel; called once the socket is gone. */
  dispose(): void {
    this.closed = true;
    this.queue = undefined;
    this.ctx.draining.delete(this);
    for (const sub of this.subscriptions?.values() ?? []) this.drop(sub);
    this.subscriptions = undefined;
  }

  /** Ends a subscription whose token expired (the gateway's expiry sweep). */
  expire(sub: ChannelSubscription): void {
    this.drop(sub);
    this.subscriptions?.delete(sub.channel);
    this.send({ type: 'unsubscribed', channel: sub.channel, reason: 'token_expired' });
  }

  private closeSlow(): void {
    const dropped = this.queue?.length ?? 0;
    this.ctx.metrics.framesDropped.inc(dropped);
    this.ctx.metrics.slowCloses.inc();
    this.queue?.clear();
    this.close(CloseCodes.slowConsumer, 'slow consumer: resume');
  }

  private handle(frame: ClientFrame): void {
    switch (frame.type) {
      case 'subscribe':
        void this.subscribe(frame);
        return;
      case 'unsubscribe': {
        const sub = this.subscriptions?.get(frame.channel);
        if (!sub)
          return this.error('not_subscribed', `not subscribed to ${frame.channel}`, frame.id, frame.channel);
        this.drop(sub);
        this.subscriptions?.delete(frame.channel);
        this.send({ type: 'unsubscribed', id: frame.id, channel: frame.channel });
        return;
      }
      case 'refresh':
        void this.refresh(frame.channel, frame.token, frame.id);
        return;
      case 'ping':
        this.send({ type: 'pong', id: frame.id });
        return;
      case 'pong':
        return;
    }
  }

  private async subscribe(frame: SubscribeFrame): Promise<void> {
    const { channel, id } = frame;
    if (!this.takeSubscribeBudget()) {
      return this.error(
        'rate_limited',
        `at most ${this.ctx.limits.subscribeRatePerSecond} subscribes a second`,
        id,
        channel,
      );
    }
    if (this.subscriptions?.has(channel))
      return this.error('already_subscribed', `already subscribed to ${channel}`, id, channel);
    if ((this.subscriptions?.size ?? 0) >= this.ctx.limits.maxSubscriptions) {
      return this.error(
        'too_many_subscriptions',
        `at most ${this.ctx.limits.maxSubscriptions} subscriptions a connection`,
        id,
        channel,
      );
    }
    let ref;
    try {
      ref = parseChannel(channel);
    } catch (error) {
      return this.error('unknown_channel', (error as Error).message, id, channel);
    }
    const subscriptions = (this.subscriptions ??= new Map());
    const sub = new ChannelSubscription(channel, ref, this, this.ctx.sync, this.ctx.subscriptionStats);
    subscriptions.set(channel, sub); // held while authorising, so a second subscribe is refused
    const verdict = await this.ctx.auth.authorize(ref, frame.token);
    if (this.closed || subscriptions.get(channel) !== sub) return;
    if (!verdict.ok) {
      subscriptions.delete(channel);
      return this.error(verdict.code, verdict.message, id, channel);
    }
    sub.expiresAt = verdict.expiresAt;
    this.ctx.onSubscribed(this, sub);
    try {
      const outcome = await this.ctx.sync.subscribe(sub, ref, frame.since, {
        id,
        expiresAt: verdict.expiresAt === undefined ? undefined : new Date(verdict.expiresAt).toISOString(),
      });
      if (frame.since) this.ctx.metrics.resumes.inc({ outcome });
    } catch (error) {
      if (this.closed || subscriptions.get(channel) !== sub) return;
      this.drop(sub);
      subscriptions.delete(channel);
      this.ctx.log.warn({ err: error, channel }, 'subscribe failed');
      this.error('unavailable', 'the channel could not be read now: try again', id, channel);
    }
  }

  private async refresh(channel: string, token: string, id: number | undefined): Promise<void> {
    const sub = this.subscriptions?.get(channel);
    if (!sub) return this.error('not_subscribed', `not subscribed to ${channel}`, id, channel);
    const verdict = await this.ctx.auth.authorize(sub.ref, token);
    if (!verdict.ok) return this.error(verdict.code, verdict.message, id, channel);
    sub.expiresAt = verdict.expiresAt;
    sub.warned = false;
    const expiresAt = verdict.expiresAt === undefined ? '' : new Date(verdict.expiresAt).toISOString();
    this.send({ type: 'refreshed', id, channel, expires_at: expiresAt });
  }

  private drop(sub: ChannelSubscription): void {
    sub.closed = true;
    this.ctx.hub.leave(sub.channel, sub);
    this.ctx.onUnsubscribed(this, sub);
  }

  private takeSubscribeBudget(): boolean {
    const now = Date.now();
    const { subscribeRatePerSecond, subscribeBurst } = this.ctx.limits;
    this.subscribeBudget = Math.min(
      subscribeBurst,
      this.subscribeBudget + ((now - this.budgetAt) / 1000) * subscribeRatePerSecond,
    );
    this.budgetAt = now;
    if (this.subscribeBudget < 1) return false;
    this.subscribeBudget -= 1;
    return true;
  }

  private refuse(refusal: { code: RealtimeErrorCode; message: string; field?: string; id?: number }): void {
    this.ctx.metrics.refusedFrames.inc({ code: refusal.code });
    this.send({ type: 'error', ...refusal } satisfies ErrorFrame);
    if (++this.refusedInARow >= MAX_REFUSED_IN_A_ROW)
      this.close(CloseCodes.policyViolation, 'too many refused frames');
  }

  private error(code: RealtimeErrorCode, message: string, id: number | undefined, channel?: string): void {
    this.ctx.metrics.refusedFrames.inc({ code });
    this.send({ type: 'error', id, code, message, channel } satisfies ErrorFrame);
  }
}
