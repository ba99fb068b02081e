import { ChannelRef, encodeSseCursor, ServerFrame, StreamPosition } from '@choreo/contracts';
import type { ServerResponse } from 'node:http';
import { ChannelSubscription, FrameSink } from '../channels/channel-subscription';
import type { GatewayContext } from './gateway-context';

/** One channel of an SSE request, authorised, with where to resume it. */
export interface SseChannel {
  channel: string;
  ref: ChannelRef;
  since?: StreamPosition;
  expiresAt?: number;
}

/** The head of every event stream (and the whole answer to a HEAD request, which gets no stream). */
export const SSE_HEAD = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Bytes a stream may have waiting in its socket before it is ended as slow (the client resumes). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * One `text/event-stream` response carrying one or more channels, each made whole the same way as
 * on the WebSocket. Every event's `id:` is a cursor holding the position of all the stream's
 * channels, so an EventSource's `Last-Event-ID` (or curl's header) resumes every one of them.
 */
export class SseStream implements FrameSink {
  private readonly positions = new Map<string, StreamPosition>();
  private readonly subscriptions: ChannelSubscription[] = [];
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly ctx: GatewayContext,
    private readonly heartbeatMs = 15_000,
  ) {}

  async start(channels: SseChannel[]): Promise<void> {
    this.res.writeHead(200, SSE_HEAD);
    this.res.write('retry: 1000\n\n');
    this.res.on('close', () => this.close());
    this.ctx.metrics.connections.inc({ transport: 'sse' });
    this.heartbeat = setInterval(() => this.res.write(': heartbeat\n\n'), this.heartbeatMs);
    // A token is checked again on every resume: the stream ends when the first one expires.
    const expiries = channels.flatMap((c) => (c.expiresAt === undefined ? [] : [c.expiresAt]));
    if (expiries.length > 0) {
      this.expiry = setTimeout(
        () => {
          this.write(
            'unsubscribed',
            JSON.stringify({ type: 'unsubscribed', channel: '*', reason: 'token_expired' }),
            false,
          );
          this.close();
        },
        Math.min(...expiries) - Date.now(),
      );
    }
    for (const { channel, ref, since, expiresAt } of channels) {
      if (since) this.positions.set(channel, since);
      const sub = new ChannelSubscription(channel, ref, this, this.ctx.sync, this.ctx.subscriptionStats);
      sub.expiresAt = expiresAt;
      this.subscriptions.push(sub);
      this.ctx.metrics.subscriptions.inc({ kind: ref.kind });
      try {
        const outcome = await this.ctx.sync.subscribe(sub, ref, since, {});
        if (since) this.ctx.metrics.resumes.inc({ outcome });
      } catch {
        this.write(
          'error',
          JSON.stringify({
            type: 'error',
            code: 'unavailable',
            channel,
            message: 'the channel could not be read now',
          }),
          false,
        );
        this.close();
        return;
      }
    }
  }

  /** Writes one frame as an SSE event; publications and snapshots move the cursor (FrameSink). */
  enqueue(text: string): void {
    if (this.closed) return;
    const frame = JSON.parse(text) as ServerFrame;
    let moves = false;
    if (frame.type === 'subscribed' && frame.follows === 'replay' && frame.replay_after !== undefined) {
      this.positions.set(frame.channel, { offset: frame.replay_after, epoch: epochOf(frame.epoch) });
    } else if ((frame.type === 'publication' && frame.offset !== undefined) || frame.type === 'snapshot') {
      this.positions.set(frame.channel, {
        offset: frame.offset as number,
        epoch: epochOf(frame.epoch ?? ''),
      });
      moves = true;
    }
    this.write(frame.type, text, moves);
    this.ctx.metrics.framesSent.inc();
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.ctx.metrics.slowCloses.inc();
      this.res.end();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
    this.ctx.metrics.connections.dec({ transport: 'sse' });
    for (const sub of this.subscriptions) {
      sub.closed = true;
      this.ctx.hub.leave(sub.channel, sub);
      this.ctx.metrics.subscriptions.dec({ kind: sub.ref.kind });
    }
    if (!this.res.writableEnded) this.res.end();
  }

  private write(event: string, data: string, withCursor: boolean): void {
    const id = withCursor ? `id: ${encodeSseCursor(this.positions)}\n` : '';
    this.res.write(`event: ${event}\n${id}data: ${data}\n\n`);
  }
}

function epochOf(epoch: string): string | undefined {
  return epoch === '' ? undefined : epoch;
}
