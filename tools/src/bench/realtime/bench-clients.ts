import WebSocket from 'ws';
import type { FromClients, ToClients } from './bench-protocol';
import { StormClients } from './storm-clients';

// One client process of `npm run bench:realtime`: opens its share of the connections and reports
// what arrived. Raw connections (plain `ws`, one subscribe frame, JSON.parse per frame) measure the
// servers; resumable ones (the workspace's RealtimeClient) measure the reconnect storm.

/** Connection attempts in flight at once per process (a burst of 2,500 SYNs overflows the backlog). */
const CONNECTING_AT_ONCE = 200;

const send = (message: FromClients) => process.send?.(message);
const raw: WebSocket[] = [];
let frames = 0;
let firstAt = 0;
let lastAt = 0;
let latencies: number[] = [];
let closes: Record<string, number> = {};
const terminated = new WeakSet<WebSocket>();
const storm = new StormClients(onFrame);

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

/** Opens a connection and subscribes; resolves at `subscribed` (publications before it are not owed). */
function openRaw(url: string, channel: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?v=1`, { perMessageDeflate: false });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channel })));
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"subscribed"')) resolve();
      else if (text.startsWith('{"type":"error"')) reject(new Error(`subscribe ${channel}: ${text}`));
      else onFrame(text);
    });
    socket.on('close', (code) => {
      if (!terminated.has(socket)) closes[code] = (closes[code] ?? 0) + 1;
    });
    socket.on('error', reject);
    raw.push(socket);
  });
}

async function connectRaw(url: string, count: number, channels: string[], offset: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await openRaw(url, channels[(offset + i) % channels.length]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTING_AT_ONCE, count) }, worker));
}

process.on('message', (message: ToClients) => {
  handle(message).catch((error: unknown) =>
    send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) }),
  );
});

async function handle(message: ToClients): Promise<void> {
  switch (message.cmd) {
    case 'connect':
      if (message.resumable)
        await storm.connect(message.url, message.count, message.channels, message.offset);
      else await connectRaw(message.url, message.count, message.channels, message.offset);
      send({ kind: 'connected', count: message.count });
      return;
    case 'reset':
      frames = firstAt = lastAt = 0;
      latencies = [];
      closes = {};
      return;
    case 'report':
      send({ kind: 'report', frames, firstAt, lastAt, latencies, closes });
      return;
    case 'drop':
      send({ kind: 'dropped', ...(await storm.drop(message.waitMs)) });
      return;
    case 'verify':
      send({ kind: 'verified', tally: await storm.verify(message.last, message.waitMs) });
      return;
    case 'close':
      for (const socket of raw) socket.terminate();
      raw.length = 0;
      storm.close();
      send({ kind: 'closed' });
      return;
  }
}
