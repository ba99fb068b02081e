import { CloseCodes, REALTIME_PROTOCOL_VERSION } from '@choreo/contracts';
import type { IncomingMessage, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChannelSubscription } from '../channels/channel-subscription';
import type { GatewayContext } from './gateway-context';
import { RealtimeConnection } from './realtime-connection';

export interface GatewayOptions {
  /** Allowed `Origin` values; empty allows any (non-browser clients send none). */
  allowedOrigins: readonly string[];
  /** Frames above this are cut by `ws` itself with 1009 (default 4 × maxFrameBytes). */
  hardFrameLimit?: number;
}

/**
 * The WebSocket endpoint `/ws?v=1` on the app's own HTTP server (`ws` with no per-message deflate:
 * the cheapest path per frame and per idle connection). One timer per replica does heartbeats and
 * token expiry for every connection; another drains send queues.
 */
export class RealtimeGateway {
  readonly connections = new Set<RealtimeConnection>();
  private readonly wss: WebSocketServer;
  private readonly tokenSubscriptions = new Map<ChannelSubscription, RealtimeConnection>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly ctx: GatewayContext,
    private readonly options: GatewayOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.hardFrameLimit ?? ctx.limits.maxFrameBytes * 4,
      clientTracking: false,
    });
    ctx.onSubscribed = (connection, sub) => {
      this.ctx.metrics.subscriptions.inc({ kind: sub.ref.kind });
      if (sub.expiresAt !== undefined) this.tokenSubscriptions.set(sub, connection);
    };
    ctx.onUnsubscribed = (_connection, sub) => {
      this.ctx.metrics.subscriptions.dec({ kind: sub.ref.kind });
      this.tokenSubscriptions.delete(sub);
    };
  }

  /** Serves `/ws` on `server`: every other upgrade request is refused. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head),
    );
    this.timers.push(setInterval(() => this.heartbeat(), this.ctx.limits.pingIntervalMs));
    this.timers.push(
      setInterval(() => this.sweepTokens(), Math.min(1000, this.ctx.limits.tokenNoticeMs / 4)),
    );
    this.timers.push(setInterval(() => this.drain(), 10));
    for (const timer of this.timers) timer.unref();
  }

  /** Closes every connection with 4000 (clients resume elsewhere) and stops the timers. */
  close(code: number = CloseCodes.shutdown): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const connection of this.connections) connection.close(code, 'replica shutting down');
    this.wss.close();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return refuseUpgrade(socket, 404, 'Not Found');
    const origin = request.headers.origin;
    if (origin && this.options.allowedOrigins.length > 0 && !this.options.allowedOrigins.includes(origin)) {
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const version = url.searchParams.get('v') ?? String(REALTIME_PROTOCOL_VERSION);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, socket, version));
  }

  // A method, not a closure in upgrade(): a connection's listeners keep only what they use, not the
  // request and its URL (memory per idle connection).
  private accept(ws: WebSocket, socket: Duplex, version: string): void {
    if (version !== String(REALTIME_PROTOCOL_VERSION)) {
      ws.close(
        CloseCodes.unsupportedProtocol,
        `protocol ${version} is not supported; use v=${REALTIME_PROTOCOL_VERSION}`,
      );
      return;
    }
    const connection = new RealtimeConnection(randomUUID(), ws, this.ctx, socket);
    this.connections.add(connection);
    this.ctx.metrics.connections.inc({ transport: 'ws' });
    ws.on('message', (data, isBinary) => connection.onMessage(data, isBinary));
    ws.on('pong', () => (connection.lastHeardAt = Date.now()));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.connections.delete(connection);
      this.ctx.metrics.connections.dec({ transport: 'ws' });
      connection.dispose();
    });
    connection.send({
      type: 'connected',
      protocol: REALTIME_PROTOCOL_VERSION,
      client: connection.id,
      ping_interval_ms: this.ctx.limits.pingIntervalMs,
      max_frame_bytes: this.ctx.limits.maxFrameBytes,
    });
  }

  // One pass over every connection: close the silent ones, ping the rest (a protocol ping for
  // proxies and the ws stack, an application ping for browsers, which cannot see protocol pings).
  private heartbeat(): void {
    const silentSince = Date.now() - 2 * this.ctx.limits.pingIntervalMs;
    const ping = '{"type":"ping"}';
    for (const connection of this.connections) {
      if (connection.lastHeardAt < silentSince) {
        connection.close(CloseCodes.heartbeatTimeout, 'no pong');
        continue;
      }
      connection.socket.ping();
      connection.enqueue(ping);
    }
  }

  private sweepTokens(): void {
    const now = Date.now();
    for (const [sub, connection] of this.tokenSubscriptions) {
      const expiresAt = sub.expiresAt;
      if (expiresAt === undefined) continue;
      if (now >= expiresAt) {
        this.tokenSubscriptions.delete(sub);
        connection.expire(sub);
      } else if (!sub.warned && expiresAt - now <= this.ctx.limits.tokenNoticeMs) {
        sub.warned = true;
        connection.send({
          type: 'expiring',
          channel: sub.channel,
          expires_at: new Date(expiresAt).toISOString(),
        });
      }
    }
  }

  private drain(): void {
    for (const connection of this.ctx.draining) if (connection.drain()) this.ctx.draining.delete(connection);
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
