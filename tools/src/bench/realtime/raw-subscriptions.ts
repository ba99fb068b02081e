import type { WebSocket, WebSocketServer } from 'ws';

/**
 * The sockets of the benches' bare `ws` servers, by channel: a `subscribe` frame adds its socket (and
 * `onSubscribe` answers it), a close removes it. No token, no history, no limits.
 */
export function trackSubscriptions(
  wss: WebSocketServer,
  onSubscribe: (socket: WebSocket, channel: string) => void,
): Map<string, Set<WebSocket>> {
  const byChannel = new Map<string, Set<WebSocket>>();
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; channel: string };
      if (frame.type !== 'subscribe') return;
      let set = byChannel.get(frame.channel);
      if (!set) byChannel.set(frame.channel, (set = new Set()));
      set.add(socket);
      socket.on('close', () => set.delete(socket));
      onSubscribe(socket, frame.channel);
    });
  });
  return byChannel;
}
