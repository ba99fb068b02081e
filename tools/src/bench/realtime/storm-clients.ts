import WebSocket from 'ws';
import { RealtimeClient, Subscription, WebSocketConstructor } from '@choreo/realtime-client';
import { StormTally, tallyStorm } from './storm-accounting';

interface StormClient {
  client: RealtimeClient;
  sub: Subscription;
  startOffset: number;
  offsets: number[];
  snapshotsAtDrop: number;
  droppedAt?: number;
  resumedAt?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The storm's clients in one process: the workspace's RealtimeClient (reconnect with backoff and
 * jitter, resume from the last offset applied), each recording every offset it hands out.
 */
export class StormClients {
  private readonly clients: StormClient[] = [];

  constructor(private readonly onPublication: (text: string) => void) {}

  async connect(url: string, count: number, channels: string[], offset: number): Promise<void> {
    const added: StormClient[] = [];
    for (let i = 0; i < count; i++) {
      const client = new RealtimeClient({
        url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        backoff: { minMs: 100, maxMs: 3000 },
      });
      const entry = { client, offsets: [] as number[], startOffset: -1, snapshotsAtDrop: 0 } as StormClient;
      entry.sub = client.subscribe(channels[(offset + i) % channels.length], {
        onPublication: (p) => {
          entry.offsets.push(p.offset ?? -1);
          this.onPublication(JSON.stringify(p));
        },
        onSubscribed: () => {
          if (entry.droppedAt !== undefined && entry.resumedAt === undefined) entry.resumedAt = Date.now();
        },
      });
      added.push(entry);
    }
    // Made whole: subscribed, and the first snapshot applied (aggregate channels start from one).
    while (!added.every((c) => c.sub.state === 'subscribed' && c.sub.position !== undefined)) await sleep(50);
    for (const c of added) {
      c.startOffset = c.sub.position?.offset ?? 0;
      c.offsets.length = 0;
    }
    this.clients.push(...added);
  }

  /** Drops every connection at once; answers when all resumed, or after `waitMs`. */
  async drop(waitMs: number): Promise<{ clients: number; resumed: number; resumedAfterMs: number[] }> {
    const droppedAt = Date.now();
    for (const c of this.clients) {
      c.droppedAt = droppedAt;
      c.resumedAt = undefined;
      c.snapshotsAtDrop = c.sub.stats.snapshots;
      c.client.drop();
    }
    while (this.clients.some((c) => c.resumedAt === undefined) && Date.now() - droppedAt < waitMs) {
      await sleep(20);
    }
    const after = this.clients.flatMap((c) => (c.resumedAt === undefined ? [] : [c.resumedAt - droppedAt]));
    return { clients: this.clients.length, resumed: after.length, resumedAfterMs: after };
  }

  /** Waits (up to `waitMs`) for every client to reach its channel's last offset, then counts. */
  async verify(last: Record<string, number>, waitMs: number): Promise<StormTally> {
    const deadline = Date.now() + waitMs;
    const behind = () =>
      this.clients.some((c) => (c.offsets.at(-1) ?? c.startOffset) < (last[c.sub.channel] ?? 0));
    while (behind() && Date.now() < deadline) await sleep(50);
    return tallyStorm(
      this.clients.map((c) => ({
        channel: c.sub.channel,
        startOffset: c.startOffset,
        offsets: c.offsets,
        resumed: c.resumedAt !== undefined,
        snapshotsAfterDrop: c.sub.stats.snapshots - c.snapshotsAtDrop,
      })),
      last,
    );
  }

  close(): void {
    for (const c of this.clients) c.client.close();
    this.clients.length = 0;
  }
}
