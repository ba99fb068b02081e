import WebSocket from 'ws';
import { RealtimeClient, Subscription, WebSocketConstructor } from '@choreo/realtime-client';
import type { FromClients, ToClients } from './bench-protocol';

// One client process of `npm run bench:realtime`: opens its share of the connections and reports
// what arrived. Raw connections (plain `ws`, one subscribe frame, JSON.parse per frame) measure the
// servers; resumable ones (the workspace's RealtimeClient) measure the reconnect storm.

const send = (message: FromClients) => process.send?.(message);
const raw: WebSocket[] = [];
const clients: {
  client: RealtimeClient;
  sub: Subscription;
  offsets: number[];
  droppedAt?: number;
  resumedAt?: number;
}[] = [];
let frames = 0;
let firstAt = 0;
let lastAt = 0;
let latencies: number[] = [];

function onFrame(text: string): void {
  const frame = JSON.parse(text) as { type: string; data?: { sent_at?: number } };
  if (frame.type !== 'publication') return;
  const now = Date.now();
  if (frames === 0) firstAt = now;
  lastAt = now;
  frames++;
  const sentAt = frame.data?.sent_at;
  if (sentAt !== undefined && latencies.length < 500_000) latencies.push(now - sentAt);
}

async function connectRaw(url: string, count: number, channels: string[], offset: number): Promise<void> {
  let open = 0;
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < count; i++) {
      const socket = new WebSocket(`${url}?v=1`, { perMessageDeflate: false });
      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'subscribe', channel: channels[(offset + i) % channels.length] }));
        if (++open === count) resolve();
      });
      socket.on('message', (data) => onFrame(String(data)));
      socket.on('error', reject);
      raw.push(socket);
    }
  });
}

async function connectResumable(
  url: string,
  count: number,
  channels: string[],
  offset: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const client = new RealtimeClient({
      url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      backoff: { minMs: 100, maxMs: 3000 },
    });
    const entry = { client, offsets: [] as number[] } as (typeof clients)[number];
    entry.sub = client.subscribe(channels[(offset + i) % channels.length], {
      onPublication: (p) => {
        entry.offsets.push(p.offset ?? -1);
        onFrame(JSON.stringify(p));
      },
      onSubscribed: () => {
        if (entry.droppedAt !== undefined && entry.resumedAt === undefined) entry.resumedAt = Date.now();
      },
    });
    clients.push(entry);
  }
  while (!clients.every((c) => c.sub.state === 'subscribed')) await new Promise((r) => setTimeout(r, 50));
}

process.on('message', (message: ToClients) => {
  void (async () => {
    switch (message.cmd) {
      case 'connect':
        if (message.resumable)
          await connectResumable(message.url, message.count, message.channels, message.offset);
        else await connectRaw(message.url, message.count, message.channels, message.offset);
        send({ kind: 'connected', count: message.count });
        return;
      case 'reset':
        frames = firstAt = lastAt = 0;
        latencies = [];
        return;
      case 'report':
        send({ kind: 'report', frames, firstAt, lastAt, latencies });
        return;
      case 'drop': {
        const droppedAt = Date.now();
        for (const c of clients) {
          c.droppedAt = droppedAt;
          c.resumedAt = undefined;
          c.client.drop();
        }
        while (clients.some((c) => c.resumedAt === undefined) && Date.now() - droppedAt < 60_000) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const resumedAfter = clients.flatMap((c) =>
          c.resumedAt === undefined ? [] : [c.resumedAt - droppedAt],
        );
        send({ kind: 'dropped', resumed: resumedAfter.length, slowestMs: Math.max(0, ...resumedAfter) });
        return;
      }
      case 'verify': {
        let lost = 0;
        let duplicates = 0;
        for (const c of clients) {
          const last = message.last[c.sub.channel] ?? 0;
          const first = c.offsets[0] ?? last + 1;
          const distinct = new Set(c.offsets).size;
          duplicates += c.offsets.length - distinct;
          lost += Math.max(0, last - first + 1 - distinct);
        }
        send({
          kind: 'verified',
          lost,
          duplicates,
          snapshots: clients.reduce((n, c) => n + c.sub.stats.snapshots, 0),
        });
        return;
      }
      case 'close':
        for (const socket of raw) socket.terminate();
        for (const c of clients) c.client.close();
        raw.length = 0;
        clients.length = 0;
        send({ kind: 'closed' });
        return;
    }
  })();
});
