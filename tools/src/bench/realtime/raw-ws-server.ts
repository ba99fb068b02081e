import { WebSocketServer } from 'ws';
import { trackSubscriptions } from './raw-subscriptions';

// The baseline of `npm run bench:realtime`: a bare `ws` server that speaks just enough of the
// protocol (subscribe → subscribed) and broadcasts publication frames of the same shape and size
// to the same clients, generated in process (no Redis, no history, no ordering guard).

const port = Number(process.env['PORT']);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, clientTracking: false });
const offsets = new Map<string, number>();

wss.on('connection', (socket) =>
  socket.send(
    JSON.stringify({
      type: 'connected',
      protocol: 1,
      client: 'raw',
      ping_interval_ms: 25000,
      max_frame_bytes: 65536,
    }),
  ),
);
const byChannel = trackSubscriptions(wss, (socket, channel) =>
  socket.send(
    JSON.stringify({
      type: 'subscribed',
      channel,
      recovered: true,
      follows: 'replay',
      epoch: 'raw',
      offset: 0,
      replay_after: 0,
    }),
  ),
);

function publish(channel: string, value: number): void {
  const offset = (offsets.get(channel) ?? 0) + 1;
  offsets.set(channel, offset);
  const text = JSON.stringify({
    type: 'publication',
    channel,
    offset,
    epoch: 'raw',
    event: 'aggregate.updated',
    id: `raw-${channel}-${offset}`,
    time: new Date().toISOString(),
    data: { rule: channel.slice('aggregates:'.length), value, sent_at: Date.now() },
  });
  for (const socket of byChannel.get(channel) ?? []) socket.send(text);
}

// Emits `events` publications round-robin over `channels` at `rate` a second (0: as fast as it can).
process.on('message', (message: { cmd: 'emit'; channels: string[]; events: number; rate: number }) => {
  let sent = 0;
  const started = Date.now();
  const tick = () => {
    const due =
      message.rate === 0
        ? sent + 500
        : Math.min(message.events, Math.floor(((Date.now() - started) / 1000) * message.rate));
    for (; sent < Math.min(due, message.events); sent++)
      publish(message.channels[sent % message.channels.length], sent);
    if (sent < message.events) setTimeout(tick, message.rate === 0 ? 0 : 5);
    else process.send?.({ kind: 'emitted' });
  };
  tick();
});

wss.on('listening', () => process.send?.({ kind: 'listening' }));
