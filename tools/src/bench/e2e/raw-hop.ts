import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { freePort } from '@choreo/testing';
import { latency, Latency } from './e2e-report';

const STREAM = 'bench:e2e:raw';
const CONNECTIONS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The baseline hop: XADD (stamped with its scheduled time) → a bare XREAD BLOCK loop → `ws` send →
 * a client socket, on the same Redis and machine as the system under test (raw-stream-ws.ts).
 */
export class RawHop {
  private constructor(
    private readonly child: ChildProcess,
    private readonly redis: Redis,
    private readonly sockets: WebSocket[],
    private readonly latencies: number[],
  ) {}

  static async start(redisUrl: string): Promise<RawHop> {
    const port = await freePort();
    const child = fork(path.join(__dirname, 'raw-stream-ws.ts'), [], {
      execArgv: ['-r', '@swc-node/register'],
      cwd: path.resolve(__dirname, '../../../..'),
      env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, STREAM },
    });
    await once(child, 'message');
    const latencies: number[] = [];
    const sockets = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, i) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
        await once(socket, 'open');
        socket.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string; time?: string };
          if (frame.type === 'publication') latencies.push(Date.now() - Number(frame.time));
        });
        socket.send(JSON.stringify({ type: 'subscribe', channel: `raw-${i}` }));
        return socket;
      }),
    );
    await sleep(200);
    return new RawHop(child, new Redis(redisUrl), sockets, latencies);
  }

  /** Entries at `perSecond` for `seconds` (open loop), each timed from its slot to its frame. */
  async measure(perSecond: number, seconds: number): Promise<Latency> {
    this.latencies.length = 0;
    const total = Math.round(perSecond * seconds);
    const started = Date.now();
    for (let sent = 0; sent < total; ) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * perSecond));
      const pipeline = this.redis.pipeline();
      for (; sent < due; sent++) {
        const slot = started + (sent * 1000) / perSecond;
        pipeline.xadd(STREAM, '*', 'channel', `raw-${sent % CONNECTIONS}`, 'time', String(Math.round(slot)));
      }
      await pipeline.exec();
      await sleep(2);
    }
    const until = Date.now() + 5000;
    while (this.latencies.length < total && Date.now() < until) await sleep(50);
    await this.redis.del(STREAM);
    return latency(this.latencies);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): void {
    for (const socket of this.sockets) socket.terminate();
    this.redis.disconnect();
    this.child.kill('SIGKILL');
  }
}
