import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ClientFrame, parseClientFrame, ServerFrame } from '@choreo/contracts';
import { RealtimeClient } from './realtime-client';
import type { WebSocketConstructor } from './websocket-like';

// A scripted server on a real socket: each test plays the server's side of the protocol.
interface Peer {
  socket: WebSocket;
  frames: ClientFrame[];
  send(frame: ServerFrame): void;
  next(type: ClientFrame['type']): Promise<ClientFrame>;
}

let server: WebSocketServer;
let peers: Peer[];
let waiting: ((peer: Peer) => void)[];

beforeEach(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  peers = [];
  waiting = [];
  server.on('connection', (socket) => {
    const frames: ClientFrame[] = [];
    const listeners: (() => void)[] = [];
    socket.on('message', (data) => {
      frames.push(JSON.parse(String(data)) as ClientFrame);
      for (const l of listeners.splice(0)) l();
    });
    const peer: Peer = {
      socket,
      frames,
      send: (frame) => socket.send(JSON.stringify(frame)),
      next: async (type) => {
        for (;;) {
          const index = frames.findIndex((f) => f.type === type);
          if (index >= 0) return frames.splice(index, 1)[0];
          await new Promise<void>((resolve) => listeners.push(resolve));
        }
      },
    };
    peer.send({
      type: 'connected',
      protocol: 1,
      client: 'c',
      ping_interval_ms: 60_000,
      max_frame_bytes: 65536,
    });
    peers.push(peer);
    waiting.shift()?.(peer);
  });
});

afterEach(async () => {
  // A failed expectation skips a test's own close(): without this its client would reconnect forever.
  for (const client of clients.splice(0)) client.close();
  for (const client of server.clients) client.terminate();
  server.close();
});

const nextPeer = () => new Promise<Peer>((resolve) => waiting.push(resolve));
const url = () => `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
const clients: RealtimeClient[] = [];
const createClient = (extra: Partial<ConstructorParameters<typeof RealtimeClient>[0]> = {}) => {
  const client = new RealtimeClient({
    url: url(),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    backoff: { minMs: 1, maxMs: 5 },
    ...extra,
  });
  clients.push(client);
  return client;
};
const publication = (offset: number) =>
  ({ type: 'publication', channel: 'order:1', offset, event: `e${offset}`, data: { offset } }) as const;

describe('RealtimeClient', () => {
  it('delivers each publication once, in order, and resumes from the last offset after a drop', async () => {
    const sut = createClient();
    const seen: number[] = [];
    const peerReady = nextPeer();
    sut.subscribe('order:1', { token: 'tok', onPublication: (p) => seen.push(p.offset!) });
    const peer = await peerReady;
    const subscribe = await peer.next('subscribe');
    expect(subscribe).toMatchObject({ channel: 'order:1', token: 'tok' });
    expect(subscribe).not.toHaveProperty('since');
    peer.send({
      type: 'subscribed',
      id: (subscribe as { id: number }).id,
      channel: 'order:1',
      recovered: true,
      follows: 'replay',
      epoch: 'e',
      offset: 2,
      replay_after: 0,
    });
    for (const offset of [1, 2, 2, 1, 3]) peer.send(publication(offset));
    await waitUntil(() => seen.length === 3);

    const resumed = nextPeer();
    peer.socket.close(4001, 'slow');
    const second = await resumed;
    expect(await second.next('subscribe')).toMatchObject({
      channel: 'order:1',
      since: { offset: 3, epoch: 'e' },
    });
    expect(seen).toEqual([1, 2, 3]);
    sut.close();
  });

  it('resumes a channel nothing was published on yet with a since the server accepts', async () => {
    const sut = createClient();
    const peerReady = nextPeer();
    const sub = sut.subscribe('aggregates:orders_per_minute', {});
    const peer = await peerReady;
    const first = (await peer.next('subscribe')) as { id: number };
    // What the server answers for a channel with no history yet: no epoch to name.
    peer.send({
      type: 'subscribed',
      id: first.id,
      channel: 'aggregates:orders_per_minute',
      recovered: false,
      follows: 'snapshot',
      epoch: '',
      offset: 0,
    });
    peer.send({
      type: 'snapshot',
      channel: 'aggregates:orders_per_minute',
      epoch: '',
      offset: 0,
      data: { values: {} },
    });
    await waitUntil(() => sub.stats.snapshots === 1);

    const resumed = nextPeer();
    peer.socket.close(4000, 'replica shutting down');
    const resume = await (await resumed).next('subscribe');
    expect(resume).toMatchObject({ since: { offset: 0 } });
    expect(parseClientFrame(JSON.stringify(resume))).toMatchObject({ ok: true });
    sut.close();
  });

  it('asks again from what it holds when it sees a gap', async () => {
    const sut = createClient();
    const peerReady = nextPeer();
    const sub = sut.subscribe('order:1', {});
    const peer = await peerReady;
    const first = (await peer.next('subscribe')) as { id: number };
    peer.send({
      type: 'subscribed',
      id: first.id,
      channel: 'order:1',
      recovered: true,
      follows: 'replay',
      epoch: 'e',
      offset: 1,
      replay_after: 0,
    });
    peer.send(publication(1));
    peer.send(publication(3));
    expect(await peer.next('subscribe')).toMatchObject({ since: { offset: 1 } });
    expect(sub.stats).toMatchObject({ applied: 1, gaps: 1 });
    sut.close();
  });

  it('does not reconnect after a do-not-retry close code', async () => {
    const states: string[] = [];
    const sut = createClient({ onState: (s) => states.push(s) });
    const peerReady = nextPeer();
    sut.connect();
    (await peerReady).socket.close(4100, 'unsupported protocol');
    await waitUntil(() => sut.state === 'closed');
    await new Promise((r) => setTimeout(r, 30));
    expect(peers).toHaveLength(1);
    expect(states).toEqual(['connecting', 'connected', 'closed']);
  });

  it('refreshes the token when told it is expiring', async () => {
    const sut = createClient({ refreshToken: async (_channel, current) => `${current}-renewed` });
    const peerReady = nextPeer();
    sut.subscribe('order:1', { token: 'tok' });
    const peer = await peerReady;
    await peer.next('subscribe');
    peer.send({ type: 'expiring', channel: 'order:1', expires_at: new Date().toISOString() });
    expect(await peer.next('refresh')).toMatchObject({ channel: 'order:1', token: 'tok-renewed' });
    sut.close();
  });

  it('applies a snapshot and continues after its offset', async () => {
    const sut = createClient();
    const seen: number[] = [];
    const snapshots: unknown[] = [];
    const peerReady = nextPeer();
    sut.subscribe('order:1', {
      since: { offset: 1 },
      onPublication: (p) => seen.push(p.offset!),
      onSnapshot: (s) => snapshots.push(s.data),
    });
    const peer = await peerReady;
    const sub = (await peer.next('subscribe')) as { id: number };
    peer.send({
      type: 'subscribed',
      id: sub.id,
      channel: 'order:1',
      recovered: false,
      follows: 'snapshot',
      epoch: 'e',
      offset: 5,
    });
    peer.send({ type: 'snapshot', channel: 'order:1', epoch: 'e', offset: 5, data: { status: 'ready' } });
    peer.send(publication(5));
    peer.send(publication(6));
    await waitUntil(() => seen.length === 1);
    expect(seen).toEqual([6]);
    expect(snapshots).toEqual([{ status: 'ready' }]);
    sut.close();
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
