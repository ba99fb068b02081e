import {
  ClientFrame,
  CloseCodes,
  parseServerFrame,
  REALTIME_PROTOCOL_VERSION,
  ServerFrame,
  shouldResume,
} from '@choreo/contracts';
import { SubscribeOptions, Subscription } from './subscription';
import type { WebSocketConstructor, WebSocketLike } from './websocket-like';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface RealtimeClientOptions {
  /** `ws://host:3005/ws`, or a function asked on every (re)connect; `?v=1` is added. */
  url: string | (() => string);
  /** The WebSocket implementation: the browser's by default; pass `ws`'s class in Node < 22. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delay: full jitter over `min(maxMs, minMs · 2^attempt)`. Defaults 250 ms and 10 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** A fresh token for a channel, asked when the server says its token is expiring or expired. */
  refreshToken?: (channel: string, current: string | undefined) => Promise<string>;
  /** Called on every connection state change. */
  onState?: (state: ConnectionState, detail: { code?: number; reason?: string }) => void;
  random?: () => number;
}

/**
 * The choreo real-time client (browser and Node): one WebSocket, many channel subscriptions, each
 * delivering its publications once and in order; on a drop it reconnects with backoff and jitter and
 * resumes every channel from the last offset it applied, refreshing tokens when asked.
 */
export class RealtimeClient {
  state: ConnectionState = 'idle';
  /** Connections opened, and how each ended. */
  readonly stats = { connects: 0, closes: 0, lastCloseCode: 0 };
  private socket: WebSocketLike | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly pending = new Map<number, Subscription>();
  private nextId = 1;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private pingIntervalMs = 25_000;
  private readonly WebSocketImpl: WebSocketConstructor;

  constructor(private readonly options: RealtimeClientOptions) {
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl)
      throw new Error('no WebSocket implementation: pass options.WebSocket (the `ws` package in Node)');
    this.WebSocketImpl = impl;
  }

  /** Opens the connection (subscribe() does it too). */
  connect(): void {
    if (this.state === 'connecting' || this.state === 'connected') return;
    this.open(this.state === 'idle' || this.state === 'closed' ? 'connecting' : 'reconnecting');
  }

  /** Follows a channel until the subscription's unsubscribe() or the client's close(). */
  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    if (this.subscriptions.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const subscription = new Subscription(
      channel,
      options,
      (sub) => this.detach(sub),
      (sub) => this.sendSubscribe(sub),
    );
    this.subscriptions.set(channel, subscription);
    if (this.state === 'connected') this.sendSubscribe(subscription);
    else this.connect();
    return subscription;
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.silenceTimer);
    this.socket?.close(1000, 'client closed');
    this.socket = undefined;
    this.options.onState?.('closed', {});
  }

  /** Drops the current connection as a network failure would (tests, and the page's "cut" button). */
  drop(): void {
    this.socket?.close(CloseCodes.shutdown, 'client dropped');
  }

  private open(state: ConnectionState): void {
    this.setState(state, {});
    const url = new URL(typeof this.options.url === 'string' ? this.options.url : this.options.url());
    url.searchParams.set('v', String(REALTIME_PROTOCOL_VERSION));
    const socket = new this.WebSocketImpl(url.toString());
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      this.heardFromServer();
      this.handle(parseServerFrame(event.data));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stats.closes++;
      this.stats.lastCloseCode = event.code;
      clearTimeout(this.silenceTimer);
      for (const sub of this.subscriptions.values())
        if (sub.state === 'subscribed') sub.state = 'subscribing';
      this.pending.clear();
      if (this.state === 'closed') return;
      if (!shouldResume(event.code) && event.code !== 1000) {
        this.setState('closed', { code: event.code, reason: event.reason });
        return;
      }
      this.scheduleReconnect(event.code, event.reason);
    };
    socket.onerror = () => undefined; // a close always follows
  }

  private scheduleReconnect(code: number, reason: string): void {
    this.setState('reconnecting', { code, reason });
    const min = this.options.backoff?.minMs ?? 250;
    const max = this.options.backoff?.maxMs ?? 10_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    const delay = Math.round((this.options.random ?? Math.random)() * ceiling);
    this.reconnectTimer = setTimeout(() => this.open('reconnecting'), delay);
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'connected':
        this.attempt = 0;
        this.stats.connects++;
        this.pingIntervalMs = frame.ping_interval_ms;
        this.heardFromServer();
        this.setState('connected', {});
        for (const sub of this.subscriptions.values()) void this.resubscribe(sub);
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'subscribed':
        this.takeReply(frame.id)?.handleSubscribed(frame);
        return;
      case 'publication':
        this.subscriptions.get(frame.channel)?.handlePublication(frame);
        return;
      case 'snapshot':
        this.subscriptions.get(frame.channel)?.handleSnapshot(frame);
        return;
      case 'expiring':
        void this.refresh(frame.channel);
        return;
      case 'refreshed':
        this.takeReply(frame.id);
        return;
      case 'unsubscribed':
        this.takeReply(frame.id);
        if (frame.reason === 'token_expired') void this.afterExpiry(frame.channel);
        return;
      case 'error': {
        const sub =
          this.takeReply(frame.id) ?? (frame.channel ? this.subscriptions.get(frame.channel) : undefined);
        if (!sub) return;
        if (frame.code === 'token_expired' && this.options.refreshToken) void this.afterExpiry(sub.channel);
        else if (frame.code === 'unavailable') setTimeout(() => this.sendSubscribe(sub), 500);
        else sub.handleError(frame);
        return;
      }
      case 'pong':
        return;
    }
  }

  private async resubscribe(sub: Subscription): Promise<void> {
    if (sub.position !== undefined) sub.stats.resumes++;
    this.sendSubscribe(sub);
  }

  private sendSubscribe(sub: Subscription): void {
    if (sub.state === 'unsubscribed' || this.state !== 'connected') return;
    sub.state = 'subscribing';
    const id = this.nextId++;
    this.pending.set(id, sub);
    const frame: ClientFrame = { type: 'subscribe', id, channel: sub.channel };
    if (sub.token !== undefined) frame.token = sub.token;
    if (sub.position !== undefined) frame.since = sub.position;
    this.send(frame);
  }

  private async refresh(channel: string): Promise<void> {
    const sub = this.subscriptions.get(channel);
    if (!sub || !this.options.refreshToken) return;
    sub.token = await this.options.refreshToken(channel, sub.token);
    const id = this.nextId++;
    this.pending.set(id, sub);
    this.send({ type: 'refresh', id, channel, token: sub.token });
  }

  private async afterExpiry(channel: string): Promise<void> {
    const sub = this.subscriptions.get(channel);
    if (!sub || !this.options.refreshToken) return;
    sub.token = await this.options.refreshToken(channel, sub.token);
    this.sendSubscribe(sub);
  }

  private takeReply(id: number | undefined): Subscription | undefined {
    if (id === undefined) return undefined;
    const sub = this.pending.get(id);
    this.pending.delete(id);
    return sub;
  }

  private detach(sub: Subscription): void {
    this.subscriptions.delete(sub.channel);
    if (this.state === 'connected') this.send({ type: 'unsubscribe', channel: sub.channel });
  }

  // Browsers cannot see protocol pings: silence for 2.5 ping intervals means the connection is dead.
  private heardFromServer(): void {
    clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.silenceTimer = setTimeout(() => {
      if (this.socket === socket) socket?.close(CloseCodes.heartbeatTimeout, 'server silent');
    }, this.pingIntervalMs * 2.5);
  }

  private send(frame: ClientFrame): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  }

  private setState(state: ConnectionState, detail: { code?: number; reason?: string }): void {
    this.state = state;
    this.options.onState?.(state, detail);
  }
}
