import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import {
  ORDER_LIFECYCLE,
  encodeEnvelope,
  EventEnvelope,
  ServerFrame,
  parseServerFrame,
  Streams,
} from '@choreo/contracts';
import { signTrackingToken } from '@choreo/http';
import { freePort, spawnGroup, stopGroup, waitFor } from '@choreo/testing';

// Helpers of the notifications integration specs: real replicas (child processes that a spec can
// SIGKILL), real sockets, events written to the real streams.

const root = path.resolve(__dirname, '../../../..');
export const TRACKING_SECRET = 'notifications-spec-secret-0123456789abcdef';

export interface Replica {
  port: number;
  wsUrl: string;
  httpUrl: string;
  child: ChildProcess;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts one notifications replica as a child process and waits until it is ready. */
export async function startReplica(
  env: { redisUrl: string; databaseUrl: string } & Record<string, string>,
): Promise<Replica> {
  const port = await freePort();
  const { redisUrl, databaseUrl, ...extra } = env;
  const child = spawnGroup(process.execPath, ['-r', '@swc-node/register', 'apps/notifications/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      TRACKING_TOKEN_SECRET: TRACKING_SECRET,
      ENTITIES_DIR: path.join(root, 'entities'),
      OTEL_SDK_DISABLED: 'true',
      ...extra,
    },
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const httpUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    `notifications on ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`replica exited: ${output.join('').slice(-2000)}`);
      return (await fetch(`${httpUrl}/readyz`)).ok;
    },
    60_000,
    100,
  );
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl,
    child,
    output,
    kill: (signal = 'SIGKILL') => stopGroup(child, signal),
  };
}

/** A tracking token as the events app issues it (a negative ttl: one that expired that long ago). */
export async function trackingToken(
  orderId: string,
  ttlSeconds = 600,
  secret = TRACKING_SECRET,
): Promise<string> {
  const now = ttlSeconds > 0 ? new Date() : new Date(Date.now() + (ttlSeconds - 60) * 1000);
  return (await signTrackingToken(orderId, secret, ttlSeconds > 0 ? ttlSeconds : 60, now)).token;
}

export const LIFECYCLE = ORDER_LIFECYCLE;

/** The envelope of an order's lifecycle event at `sequence` (1 = created). */
export function orderEvent(orderId: string, sequence: number): EventEnvelope {
  const status = LIFECYCLE[sequence - 1];
  return {
    id: `${orderId}-${sequence}`,
    type: `order.${status}`,
    source: 'events',
    subject: orderId,
    time: new Date().toISOString(),
    sequence,
    correlationid: `corr-${orderId}`,
    data: { order_id: orderId, status, sequence },
  };
}

/** Writes events to the `orders` stream (or another), in the order given. */
export async function appendEvents(
  redis: Redis,
  events: EventEnvelope[],
  stream: string = Streams.orders,
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const event of events) pipeline.xadd(stream, '*', ...encodeEnvelope(event));
  await pipeline.exec();
}

/** A raw protocol client over `ws`: every frame it got, and a way to wait for one. */
export class FrameClient {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(parseServerFrame(String(data)));
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<FrameClient> {
    const socket = new WebSocket(url, options);
    const client = new FrameClient(socket);
    await client.next((f) => f.type === 'connected' || undefined, 10_000);
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (from now on or already received after `from`) that `match` accepts. */
  async next<T>(match: (frame: ServerFrame) => T | undefined, timeoutMs = 10_000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = from; ; ) {
      for (; seen < this.frames.length; seen++) {
        const found = match(this.frames[seen]);
        if (found !== undefined) return found;
      }
      if (this.closed) throw new Error(`closed ${this.closed.code} ${this.closed.reason} while waiting`);
      if (Date.now() > deadline)
        throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    await waitFor('socket close', async () => this.closed !== undefined, timeoutMs, 10);
    return this.closed ?? { code: 0, reason: '' };
  }

  close(): void {
    this.socket.terminate();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads an SSE response (GET `url` with `headers`) event by event until `stop` says so or it ends. */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  stop: (event: SseEvent, all: SseEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<{ status: number; events: SseEvent[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    return { status: response.status, events };
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('data: ')) event.data = line.slice(6);
        }
        if (event.data === '') continue; // comments, retry:
        events.push(event);
        if (stop(event, events)) return { status: response.status, events };
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort(); // cuts the connection mid-stream, as a dropped network would
  }
  return { status: response.status, events };
}
