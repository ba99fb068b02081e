import Redis from 'ioredis';
import { useSpecServers, waitFor } from '@choreo/testing';
import { ChannelHub, ChannelListener } from './channel-hub';
import { channelKeys, LiveFrame } from './channel-keys';

const servers = useSpecServers({ redis: true });

async function ssubscribeCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_ssubscribe:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('ChannelHub', () => {
  let subscriber: Redis;
  let publisher: Redis;
  let hub: ChannelHub;

  beforeEach(async () => {
    subscriber = new Redis(servers.redis.url);
    publisher = new Redis(servers.redis.url);
    hub = new ChannelHub(subscriber, publisher, { replicaId: 'spec' });
    await hub.start();
  });
  afterEach(() => {
    hub.stop();
    subscriber.disconnect();
    publisher.disconnect();
  });

  it('sends one SSUBSCRIBE for a storm of joins on one channel, and every joiner gets what follows', async () => {
    const received: LiveFrame[][] = [];
    const listeners: ChannelListener[] = Array.from({ length: 500 }, (_, i) => {
      received[i] = [];
      return { receive: (frame) => received[i].push(frame), repair: () => undefined };
    });
    const before = await ssubscribeCalls(publisher);
    await Promise.all(listeners.map((listener) => hub.join('order:storm', listener)));
    expect((await ssubscribeCalls(publisher)) - before).toBe(1);

    await publisher.spublish(channelKeys('order:storm').pubsub, `1\t\t${Date.now()}\t{"n":1}`);
    await waitFor(
      'every joiner received',
      async () => received.every((frames) => frames.length === 1),
      5_000,
    );
    expect(received[499][0]).toMatchObject({ offset: 1, text: '{"n":1}' });

    // The last listener out unsubscribes; the next join subscribes afresh.
    for (const listener of listeners) hub.leave('order:storm', listener);
    const again: LiveFrame[] = [];
    await hub.join('order:storm', { receive: (frame) => again.push(frame), repair: () => undefined });
    expect((await ssubscribeCalls(publisher)) - before).toBe(2);
    await publisher.spublish(channelKeys('order:storm').pubsub, `2\t\t${Date.now()}\t{"n":2}`);
    await waitFor('the new joiner received', async () => again.length === 1, 5_000);
  });
});
