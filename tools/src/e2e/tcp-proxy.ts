import { once } from 'node:events';
import net from 'node:net';

/** A TCP proxy that can cut every connection through it, as a network failure would. */
export interface TcpProxy {
  readonly port: number;
  /** Connections open now. */
  readonly open: number;
  /**
   * Resets every open connection; for `downForMs` new connections are refused too, so whatever
   * happens meanwhile must reach the client through its resume.
   */
  cut(downForMs?: number): void;
  /** Ends an outage `cut` began: new connections are accepted again. */
  restore(): void;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort> (HTTP and WebSocket alike). */
export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let downUntil = 0;
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return sockets.size / 2;
    },
    cut(downForMs = 0) {
      downUntil = Date.now() + downForMs;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      downUntil = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
