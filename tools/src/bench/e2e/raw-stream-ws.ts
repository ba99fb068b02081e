import Redis from 'ioredis';
import { WebSocketServer } from 'ws';
import { trackSubscriptions } from '../realtime/raw-subscriptions';

// The same-run baseline of `npm run bench:e2e`: the least a stream → WebSocket hop can cost on this
// machine. One XREAD BLOCK loop on a stream, each entry sent as a publication frame to the sockets
// subscribed to its channel: no consumer group, no ack, no read model, no history, no token.

const port = Number(process.env['PORT']);
const stream = process.env['STREAM'] ?? 'bench:e2e:raw';
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, clientTracking: false });
const byChannel = trackSubscriptions(wss, (socket, channel) =>
  socket.send(JSON.stringify({ type: 'subscribed', channel })),
);

async function relay(): Promise<void> {
  let last = '$';
  for (;;) {
    const reply = await redis.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', stream, last);
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        last = id;
        const channel = fields[fields.indexOf('channel') + 1];
        const text = JSON.stringify({
          type: 'publication',
          channel,
          event: 'bench',
          id,
          time: fields[fields.indexOf('time') + 1],
        });
        for (const socket of byChannel.get(channel) ?? []) socket.send(text);
      }
    }
  }
}

wss.on('listening', () => {
  process.send?.({ kind: 'listening' });
  void relay();
});
