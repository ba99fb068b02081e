import WebSocket from 'ws';
import { Channels, PublicationFrame } from '@choreo/contracts';
import { RealtimeClient, renewTrackingToken, WebSocketConstructor } from '@choreo/realtime-client';
import type { FromLoad, LoadSetup, PhasePlan, PhaseSamples, ToLoad } from './e2e-protocol';

// One load process of `npm run bench:e2e`: places its share of the orders on an open-loop schedule
// (each POST leaves at its slot whether or not earlier ones have answered) and tracks each order with
// the workspace's realtime client, as a customer's phone would, recording when each frame arrives.

const send = (message: FromLoad) => process.send?.(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FINAL = new Set(['order.delivered', 'order.cancelled']);

let setup: LoadSetup;
let clients: RealtimeClient[] = [];

interface Tracked {
  scheduledAt: number;
  answeredAt?: number;
  /** The channel offset the `subscribed` reply said the client holds: publications above it are live. */
  liveAfter?: number;
  subscribedAt?: number;
  seenFirst: boolean;
  finished: boolean;
}

function connect(options: LoadSetup): void {
  setup = options;
  clients = Array.from({ length: options.connections }, () => {
    const client = new RealtimeClient({
      url: options.wsUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      backoff: { minMs: 100, maxMs: 2000 },
      refreshToken: (channel, current) =>
        renewTrackingToken(options.eventsUrl, channel.slice('order:'.length), current ?? ''),
    });
    client.connect();
    return client;
  });
}

async function runPhase(plan: PhasePlan): Promise<PhaseSamples> {
  const samples: PhaseSamples = {
    firstFrame: [],
    postAnswer: [],
    subscribe: [],
    lifecycle: [],
    location: [],
    scheduled: 0,
    placed: 0,
    refused: 0,
    finished: 0,
    subscriptionErrors: 0,
    maxSendLagMs: 0,
  };
  const total = Math.round((plan.rate * plan.durationMs) / 1000);
  const gapMs = 1000 / plan.rate;
  const unsubscribes: (() => void)[] = [];
  const inFlight = new Set<Promise<void>>();
  let next = 0;

  const track = (orderId: string, token: string, order: Tracked, client: RealtimeClient) => {
    const firstFrame = () => {
      if (order.seenFirst) return;
      order.seenFirst = true;
      samples.firstFrame.push(Date.now() - order.scheduledAt);
    };
    const finish = () => {
      if (order.finished) return;
      order.finished = true;
      samples.finished++;
      subscription.unsubscribe();
    };
    const subscription = client.subscribe(Channels.order(orderId), {
      token,
      onSubscribed: (frame) => {
        if (order.subscribedAt !== undefined) return;
        order.subscribedAt = Date.now();
        order.liveAfter = frame.offset;
        samples.subscribe.push(order.subscribedAt - (order.answeredAt ?? order.subscribedAt));
      },
      onPublication: (frame: PublicationFrame) => {
        const now = Date.now();
        firstFrame();
        const time = frame.time === undefined ? NaN : Date.parse(frame.time);
        if (frame.offset !== undefined && frame.offset > (order.liveAfter ?? Infinity) && time) {
          samples.lifecycle.push([frame.id ?? '', time, now]);
        } else if (frame.event === 'courier.location' && time >= (order.subscribedAt ?? Infinity)) {
          samples.location.push(now - time);
        }
        if (FINAL.has(frame.event)) finish();
      },
      onSnapshot: (frame) => {
        firstFrame();
        const status = (frame.data as { status?: string } | null)?.status;
        if (status === 'delivered' || status === 'cancelled') finish();
      },
      onError: (frame) => {
        samples.subscriptionErrors++;
        samples.firstError ??= `subscription: ${frame.code} ${frame.message}`;
      },
    });
    unsubscribes.push(() => subscription.unsubscribe());
  };

  const place = async (slot: number, scheduledAt: number) => {
    const order: Tracked = { scheduledAt, seenFirst: false, finished: false };
    const productId = setup.productIds[slot % setup.productIds.length];
    try {
      const reply = await fetch(`${setup.eventsUrl}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${setup.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          customer: `e2e-${slot % 50}`,
          address: `${slot} Bench Street`,
          items: [{ product_id: productId, quantity: 1 + (slot % 3) }],
        }),
      });
      if (reply.status !== 201) {
        samples.refused++;
        samples.firstError ??= `POST /orders ${reply.status}: ${(await reply.text()).slice(0, 200)}`;
        return;
      }
      const body = (await reply.json()) as { id: string; tracking: { token: string } };
      order.answeredAt = Date.now();
      samples.postAnswer.push(order.answeredAt - scheduledAt);
      samples.placed++;
      // Round robin over this process's own orders (its slots are every workers-th: slot % n would skip clients).
      track(body.id, body.tracking.token, order, clients[samples.placed % clients.length]);
    } catch (error) {
      samples.refused++;
      samples.firstError ??= `POST /orders: ${(error as Error).message}`;
    }
  };

  const progress = setInterval(
    () =>
      send({
        kind: 'progress',
        phase: plan.name,
        placed: samples.placed,
        finished: samples.finished,
        refused: samples.refused,
      }),
    5000,
  );
  // The schedule: slot k is due at startAt + k·gap; this process sends k ≡ worker (mod workers).
  for (let slot = plan.worker; slot < total; slot += plan.workers) {
    const dueAt = plan.startAt + slot * gapMs;
    const wait = dueAt - Date.now();
    if (wait > 1) await sleep(wait);
    samples.maxSendLagMs = Math.max(samples.maxSendLagMs, Date.now() - dueAt);
    samples.scheduled++;
    const placing = place(slot, dueAt).finally(() => inFlight.delete(placing));
    inFlight.add(placing);
    next = slot;
  }
  await Promise.all(inFlight);
  const drainUntil = Math.max(Date.now(), plan.startAt + next * gapMs) + plan.drainMs;
  while (samples.finished < samples.placed && Date.now() < drainUntil) await sleep(100);
  clearInterval(progress);
  for (const unsubscribe of unsubscribes) unsubscribe();
  return samples;
}

process.on('message', (message: ToLoad) => {
  if (message.cmd === 'setup') {
    connect(message.setup);
    void (async () => {
      while (!clients.every((c) => c.state === 'connected')) await sleep(50);
      send({ kind: 'ready' });
    })();
    return;
  }
  void runPhase(message.plan).then((samples) => send({ kind: 'done', phase: message.plan.name, samples }));
});
