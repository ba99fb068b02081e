import type { Duplex } from 'node:stream';

/**
 * Coalesces what a socket is sent within one tick into one write. A burst of pub/sub messages is
 * dispatched in one tick (one read of the subscriber connection holds many), and `ws` writes each
 * frame with its own `writev`; corking a connection's socket at its first frame of the tick and
 * uncorking every held socket once the tick's work is done sends them in one system call each.
 */
export class TickWrites {
  /** Counts the releases: bytes a connection held in an earlier tick are with the kernel now. */
  tick = 0;
  private readonly held = new Set<Duplex>();
  private readonly releaseAll = () => {
    for (const socket of this.held) socket.uncork();
    this.held.clear();
    this.tick++;
  };

  /** Holds `socket`'s writes until the current tick ends. */
  hold(socket: Duplex): void {
    if (this.held.has(socket)) return;
    if (this.held.size === 0) process.nextTick(this.releaseAll);
    socket.cork();
    this.held.add(socket);
  }
}
