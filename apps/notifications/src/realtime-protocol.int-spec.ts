import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { CloseCodes, PublicationFrame, ServerFrame } from '@choreo/contracts';
import { RealtimeClient, WebSocketConstructor } from '@choreo/realtime-client';
import { PostgresServer, RedisServer, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { channelKeys } from './channels/channel-keys';
import {
  appendEvents,
  FrameClient,
  orderEvent,
  readSse,
  Replica,
  SseEvent,
  startReplica,
  trackingToken,
} from './testing/realtime-harness';

const publications = (client: FrameClient, channel: string) =>
  client.frames.filter((f): f is PublicationFrame => f.type === 'publication' && f.channel === channel);
const reply = (id: number) => (f: ServerFrame) => ('id' in f && f.id === id ? f : undefined);

describe('notifications /ws: frames, bad input, authorisation (real Redis, PostgreSQL, replica process)', () => {
  let redisServer: RedisServer;
  let postgres: PostgresServer;
  let redis: Redis;
  let replica: Replica;
  const clients: FrameClient[] = [];
  const open = async (url = replica.wsUrl) => {
    const client = await FrameClient.open(url);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [redisServer, postgres] = await Promise.all([startRedis(), startPostgres({ fsync: false })]);
    const databaseUrl = await postgres.createDatabase('notifications_protocol');
    redis = new Redis(redisServer.url);
    replica = await startReplica({
      redisUrl: redisServer.url,
      databaseUrl,
      REALTIME_TOKEN_NOTICE_MS: '2000',
      REALTIME_SEND_QUEUE_BYTES: String(256 * 1024),
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await replica?.kill('SIGTERM');
    redis?.disconnect();
    await Promise.all([redisServer?.stop(), postgres?.stop()]);
  });

  it('replays an order from its start, then delivers live publications in order', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    await appendEvents(
      redis,
      [1, 2, 3].map((s) => orderEvent(orderId, s)),
    );
    const client = await open();
    await waitForOffset(redis, channel, 3);
    client.send({ type: 'subscribe', id: 1, channel, token: await trackingToken(orderId) });
    const subscribed = await client.next(reply(1));
    expect(subscribed).toMatchObject({
      type: 'subscribed',
      recovered: true,
      follows: 'replay',
      replay_after: 0,
      offset: 3,
    });
    await appendEvents(
      redis,
      [4, 5, 6].map((s) => orderEvent(orderId, s)),
    );
    await client.next((f) => (f.type === 'publication' && f.offset === 6 ? f : undefined));
    expect(publications(client, channel).map((p) => [p.offset, p.event])).toEqual([
      [1, 'order.created'],
      [2, 'order.confirmed'],
      [3, 'order.preparing'],
      [4, 'order.ready'],
      [5, 'order.out_for_delivery'],
      [6, 'order.delivered'],
    ]);
  });

  it('resumes after the offset held, on a new connection', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    await appendEvents(
      redis,
      [1, 2, 3, 4].map((s) => orderEvent(orderId, s)),
    );
    await waitForOffset(redis, channel, 4);
    const client = await open();
    client.send({
      type: 'subscribe',
      id: 2,
      channel,
      token: await trackingToken(orderId),
      since: { offset: 2, epoch: 'seq' },
    });
    expect(await client.next(reply(2))).toMatchObject({ recovered: true, replay_after: 2, offset: 4 });
    await client.next((f) => (f.type === 'publication' && f.offset === 4 ? f : undefined));
    expect(publications(client, channel).map((p) => p.offset)).toEqual([3, 4]);
  });

  it('answers recovered: false with a snapshot when the history is gone, then goes live after it', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    await appendEvents(
      redis,
      [1, 2, 3].map((s) => orderEvent(orderId, s)),
    );
    await waitForOffset(redis, channel, 3);
    const keys = channelKeys(channel);
    await redis.del(keys.history, keys.meta);
    const client = await open();
    client.send({
      type: 'subscribe',
      id: 3,
      channel,
      token: await trackingToken(orderId),
      since: { offset: 1 },
    });
    expect(await client.next(reply(3))).toMatchObject({ recovered: false, follows: 'snapshot', offset: 3 });
    const snapshot = await client.next((f) => (f.type === 'snapshot' ? f : undefined));
    expect(snapshot).toMatchObject({ channel, offset: 3, data: { status: 'preparing', sequence: 3 } });
    expect((snapshot.data as { timeline: { sequence: number }[] }).timeline.map((e) => e.sequence)).toEqual([
      1, 2, 3,
    ]);
    await appendEvents(redis, [orderEvent(orderId, 4)]);
    await client.next((f) => (f.type === 'publication' && f.offset === 4 ? f : undefined));
    expect(publications(client, channel).map((p) => p.offset)).toEqual([4]);
  });

  it('refuses bad input with error frames or the documented close code, and stays up', async () => {
    const client = await open();
    const errorAfter = async (frame: unknown) => {
      const from = client.frames.length;
      client.send(frame);
      return client.next((f) => (f.type === 'error' ? f : undefined), 5000, from);
    };
    expect(await errorAfter('not json')).toMatchObject({ code: 'bad_frame' });
    expect(await errorAfter({ type: 'publish', channel: 'x' })).toMatchObject({
      code: 'unknown_type',
      field: 'type',
    });
    expect(await errorAfter({ type: 'subscribe', id: 4 })).toMatchObject({
      code: 'invalid_field',
      field: 'channel',
      id: 4,
    });
    expect(await errorAfter({ type: 'subscribe', channel: 'orders:all' })).toMatchObject({
      code: 'unknown_channel',
    });
    expect(await errorAfter({ type: 'subscribe', channel: 'order:not-a-uuid', token: 'x' })).toMatchObject({
      code: 'unknown_channel',
    });
    expect(await errorAfter({ type: 'unsubscribe', channel: 'entity:product' })).toMatchObject({
      code: 'not_subscribed',
    });
    const fromBinary = client.frames.length;
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next((f) => (f.type === 'error' ? f : undefined), 5000, fromBinary)).toMatchObject({
      code: 'binary_frame',
    });
    expect(await errorAfter(JSON.stringify({ type: 'ping', pad: 'x'.repeat(100_000) }))).toMatchObject({
      code: 'frame_too_large',
    });

    // 10,000 subscribes in one burst: the rate and count limits answer each one that is over.
    const from = client.frames.length;
    for (let i = 0; i < 10_000; i++)
      client.send({ type: 'subscribe', id: 100 + i, channel: `aggregates:rule-${i}` });
    const answersNow = () =>
      client.frames.slice(from).filter((f) => 'id' in f && typeof f.id === 'number' && f.id >= 100);
    await waitFor('an answer to every subscribe', async () => answersNow().length >= 10_000, 30_000);
    const answers = answersNow();
    const codes = countBy(answers.map((f) => (f.type === 'error' ? f.code : f.type)));
    expect(answers).toHaveLength(10_000);
    expect(codes['subscribed']).toBeLessThanOrEqual(100);
    expect((codes['rate_limited'] ?? 0) + (codes['too_many_subscriptions'] ?? 0)).toBe(
      10_000 - codes['subscribed'],
    );

    // A frame over the hard limit is cut by the WebSocket layer with 1009; the process stays up.
    const big = await open();
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(1024 * 1024) }));
    expect((await big.waitClosed()).code).toBe(1009);
    const after = await open();
    after.send({ type: 'ping', id: 9 });
    expect(await after.next(reply(9))).toEqual({ type: 'pong', id: 9 });
    expect(replica.child.exitCode).toBeNull();
  });

  it('closes with 4100 for an unknown protocol version and refuses other paths', async () => {
    const client = await FrameClient.open(`${replica.wsUrl}?v=1`);
    clients.push(client);
    const wrong = new WebSocket(`${replica.wsUrl}?v=7`);
    const code = await new Promise<number>((resolve) => wrong.on('close', (c) => resolve(c)));
    expect(code).toBe(CloseCodes.unsupportedProtocol);
    const elsewhere = new WebSocket(`ws://127.0.0.1:${replica.port}/other`);
    const status = await new Promise<number>((resolve) =>
      elsewhere.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it('refuses order channels without the right token, each with its code', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    const client = await open();
    const answer = async (id: number, token?: string) => {
      client.send({ type: 'subscribe', id, channel, token });
      return client.next(reply(id));
    };
    expect(await answer(20)).toMatchObject({ type: 'error', code: 'unauthorized', channel });
    expect(await answer(21, 'garbled.token.here')).toMatchObject({ type: 'error', code: 'invalid_token' });
    expect(await answer(22, await trackingToken(orderId, -10))).toMatchObject({
      type: 'error',
      code: 'token_expired',
    });
    expect(await answer(23, await trackingToken(randomUUID()))).toMatchObject({
      type: 'error',
      code: 'forbidden',
    });
    expect(
      await answer(24, await trackingToken(orderId, 600, 'another-secret-0123456789abcdefghijkl')),
    ).toMatchObject({
      type: 'error',
      code: 'invalid_token',
    });
    expect(await answer(25, await trackingToken(orderId))).toMatchObject({ type: 'subscribed' });
  });

  it('keeps a subscription alive past its first token with a refresh, and ends it without one', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    const refreshed = await open();
    const lapsed = await open();
    const first = await trackingToken(orderId, 3);
    refreshed.send({ type: 'subscribe', id: 30, channel, token: first });
    lapsed.send({ type: 'subscribe', id: 31, channel, token: first });
    await refreshed.next(reply(30));
    await lapsed.next(reply(31));
    await refreshed.next((f) => (f.type === 'expiring' ? f : undefined));
    refreshed.send({ type: 'refresh', id: 32, channel, token: await trackingToken(orderId, 600) });
    expect(await refreshed.next(reply(32))).toMatchObject({ type: 'refreshed', channel });
    expect(await lapsed.next((f) => (f.type === 'unsubscribed' ? f : undefined), 6000)).toMatchObject({
      reason: 'token_expired',
    });
    await new Promise((r) => setTimeout(r, 1500)); // past the first token's expiry
    await appendEvents(redis, [orderEvent(orderId, 1)]);
    await refreshed.next((f) => (f.type === 'publication' && f.offset === 1 ? f : undefined));
    expect(publications(lapsed, channel)).toHaveLength(0);
  });

  it('SSE: a stream cut mid-way resumes with Last-Event-ID, nothing lost, nothing twice', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    await appendEvents(
      redis,
      [1, 2, 3].map((s) => orderEvent(orderId, s)),
    );
    await waitForOffset(redis, channel, 3);
    const headers = { authorization: `Bearer ${await trackingToken(orderId)}` };
    const url = `${replica.httpUrl}/sse?channel=${channel}`;
    const offsetOf = (e: SseEvent) => (JSON.parse(e.data) as { offset?: number }).offset;
    const first = await readSse(url, headers, (e) => e.event === 'publication' && offsetOf(e) === 2);
    expect(first.status).toBe(200);
    const lastId = first.events.filter((e) => e.id).at(-1)!.id!;
    await appendEvents(
      redis,
      [4, 5].map((s) => orderEvent(orderId, s)),
    );
    const second = await readSse(
      url,
      { ...headers, 'last-event-id': lastId },
      (e) => e.event === 'publication' && offsetOf(e) === 5,
    );
    const offsets = [...first.events, ...second.events]
      .filter((e) => e.event === 'publication')
      .map(offsetOf);
    expect(offsets).toEqual([1, 2, 3, 4, 5]);
    expect(JSON.parse(second.events[0].data)).toMatchObject({
      type: 'subscribed',
      recovered: true,
      replay_after: 2,
    });
  });

  it('SSE: refuses a missing or wrong token, and a ticket works once', async () => {
    const orderId = randomUUID();
    const channel = `order:${orderId}`;
    const none = await readSse(`${replica.httpUrl}/sse?channel=${channel}`, {}, () => true);
    expect(none.status).toBe(401);
    const other = await readSse(
      `${replica.httpUrl}/sse?channel=${channel}`,
      { authorization: `Bearer ${await trackingToken(randomUUID())}` },
      () => true,
    );
    expect(other.status).toBe(403);
    const unknown = await readSse(`${replica.httpUrl}/sse?channel=nope`, {}, () => true);
    expect(unknown.status).toBe(400);
    const issued = await fetch(`${replica.httpUrl}/sse/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channels: [{ channel, token: await trackingToken(orderId) }, { channel: 'entity:product' }],
      }),
    });
    expect(issued.status).toBe(201);
    const { ticket } = (await issued.json()) as { ticket: string };
    const used = await readSse(`${replica.httpUrl}/sse?ticket=${ticket}`, {}, (_e, all) => all.length >= 2);
    expect(used.events.map((e) => JSON.parse(e.data) as { type: string; channel: string })).toEqual([
      expect.objectContaining({ type: 'subscribed', channel }),
      expect.objectContaining({ type: 'subscribed', channel: 'entity:product' }),
    ]);
    expect((await readSse(`${replica.httpUrl}/sse?ticket=${ticket}`, {}, () => true)).status).toBe(401);
  });

  it('closes a client that stops reading with 4001; it resumes and holds every publication', async () => {
    const orderId = randomUUID();
    const order = `order:${orderId}`;
    const entity = 'entity:product';
    const held = { order: [] as number[], entity: [] as number[] };
    const sockets: PausableSocket[] = [];
    class PausableSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const client = new RealtimeClient({
      url: replica.wsUrl,
      WebSocket: PausableSocket as unknown as WebSocketConstructor,
    });
    const orderSub = client.subscribe(order, {
      token: await trackingToken(orderId),
      onPublication: (p) => held.order.push(p.offset!),
    });
    const entitySub = client.subscribe(entity, { onPublication: (p) => held.entity.push(p.offset!) });
    await waitFor(
      'subscribed',
      async () => orderSub.state === 'subscribed' && entitySub.state === 'subscribed',
    );
    const start = entitySub.position!.offset;
    const rssBefore = rssKb(replica);

    // Stop reading, flood the entity channel, and move the order meanwhile.
    (sockets[0] as unknown as { _socket: Socket })._socket.pause();
    const rows = Array.from({ length: 3000 }, (_, i) => rowChange(i));
    await appendEvents(redis, rows.slice(0, 1500), 'cdc.product');
    await appendEvents(
      redis,
      [1, 2, 3, 4, 5, 6].map((s) => orderEvent(orderId, s)),
    );
    await appendEvents(redis, rows.slice(1500), 'cdc.product');
    await waitForOffset(redis, order, 6);
    await waitFor(
      'entity published',
      async () => Number(await redis.hget(channelKeys(entity).meta, 'last')) >= start + 3000,
    );
    const rssAfter = rssKb(replica);
    (sockets[0] as unknown as { _socket: Socket })._socket.resume();

    await waitFor(
      'client resumed and complete',
      async () => held.entity.length === 3000 && held.order.length === 6,
      30_000,
    );
    expect(client.stats.lastCloseCode).toBe(CloseCodes.slowConsumer);
    client.close();
    expect(sockets.length).toBeGreaterThan(1);
    expect(held.order).toEqual([1, 2, 3, 4, 5, 6]);
    expect(held.entity).toEqual(Array.from({ length: 3000 }, (_, i) => start + i + 1));
    const metrics = await (await fetch(`${replica.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/choreo_realtime_slow_closes_total\{[^}]*\} [1-9]/);
    // ~7 MB were published while the client read nothing: the replica kept at most its bounds of it.
    expect(rssAfter - rssBefore).toBeLessThan(64 * 1024);
  });
});

async function waitForOffset(redis: Redis, channel: string, offset: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Number(await redis.hget(channelKeys(channel).meta, 'last')) < offset) {
    if (Date.now() > deadline) throw new Error(`${channel} did not reach ${offset}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function rowChange(n: number) {
  return {
    id: `row-${randomUUID()}`,
    type: 'product.updated',
    source: 'cdc-relay',
    subject: `p${n}`,
    time: new Date().toISOString(),
    data: { n, pad: 'x'.repeat(2000) },
  };
}

function rssKb(replica: Replica): number {
  const status = readFileSync(`/proc/${replica.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
