import WebSocket from 'ws';
import { Channels } from '@choreo/contracts';
import { RealtimeClient, renewTrackingToken, WebSocketConstructor } from '@choreo/realtime-client';

/**
 * WebSocket clients (the workspace's realtime client) that follow orders, each order by one of them,
 * recording every step offset the client delivers to the application.
 */
export class OrderTrackers {
  /** Order id → the offsets delivered, in delivery order. */
  readonly received = new Map<string, number[]>();
  /** Connections the trackers dropped on purpose. */
  drops = 0;
  /** Subscriptions made whole by a snapshot (the history no longer covered the gap). */
  snapshots = 0;
  private readonly clients: RealtimeClient[];
  private next = 0;
  private dropTimer: NodeJS.Timeout | undefined;

  constructor(wsUrl: string, eventsUrl: string, count: number) {
    this.clients = Array.from(
      { length: count },
      () =>
        new RealtimeClient({
          url: wsUrl,
          WebSocket: WebSocket as unknown as WebSocketConstructor,
          backoff: { minMs: 100, maxMs: 2000 },
          refreshToken: (channel, current) =>
            renewTrackingToken(eventsUrl, channel.slice('order:'.length), current ?? ''),
        }),
    );
  }

  /** Follows an order (round robin over the clients) from its first step. */
  track(orderId: string, token: string): void {
    const offsets: number[] = [];
    this.received.set(orderId, offsets);
    const client = this.clients[this.next++ % this.clients.length];
    client.subscribe(Channels.order(orderId), {
      token,
      onPublication: (frame) => {
        if (frame.offset !== undefined) offsets.push(frame.offset);
      },
      // The read model's timeline replaces what the client held: that is what its user then sees.
      onSnapshot: (frame) => {
        this.snapshots++;
        const timeline = (frame.data as { timeline?: { sequence: number }[] } | null)?.timeline ?? [];
        offsets.splice(0, offsets.length, ...timeline.map((step) => step.sequence));
      },
    });
  }

  /** Every 0.5–2 s one client drops its connection, as a flaky network would; it resumes by itself. */
  startDropping(random: () => number = Math.random): void {
    const schedule = () => {
      this.dropTimer = setTimeout(
        () => {
          const client = this.clients[Math.floor(random() * this.clients.length)];
          if (client.state === 'connected') {
            client.drop();
            this.drops++;
          }
          schedule();
        },
        500 + random() * 1500,
      );
    };
    schedule();
  }

  stopDropping(): void {
    clearTimeout(this.dropTimer);
  }

  /** Resumes and snapshot fallbacks, summed over the clients' subscriptions. */
  get connects(): number {
    return this.clients.reduce((sum, c) => sum + c.stats.connects, 0);
  }

  close(): void {
    this.stopDropping();
    for (const client of this.clients) client.close();
  }
}
