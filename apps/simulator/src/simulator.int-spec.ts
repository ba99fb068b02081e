import { loadConfig } from '@choreo/config';
import { decodeEnvelope, EventEnvelope, Streams } from '@choreo/contracts';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { freePort, jsonClient, JsonCall, promtoolProblems, useSpecServers, waitFor } from '@choreo/testing';
import type Redis from 'ioredis';
import path from 'node:path';
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { journeyConfig } from './config';
import { positionFor } from './journey/geo';
import { JourneyPlanner, stepEventId } from './journey/journey-planner';
import { JOURNEY_KEYS } from './schedule/journey-store';
import { AppProcess, runCommand, startApp } from './test-fixtures/app-process';

// The simulator plays journeys ten times faster than the defaults; a quarter of the orders are rejected,
// always the same ones (seeded by the order id), so the spec knows which.
const SIMULATION = {
  SIM_SPEED: '10',
  SIM_REJECT_RATE: '0.25',
  SIM_TICK_MS: '20',
  SIM_CLAIM_TIMEOUT_MS: '1000',
};
const TOKEN = 'simulator-spec-token-0123456789';
const settings = loadConfig({ simulation: journeyConfig }, SIMULATION).simulation.journey;
const planner = new JourneyPlanner(settings, { kitchen: Streams.kitchen, couriers: Streams.couriers });

interface PlacedOrder {
  id: string;
  address: string;
  correlationId: string;
}

describe('simulator: every order moves by itself (real PostgreSQL, Redis, events, cdc-relay and simulators)', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'simulator' });
  let pool: Pool;
  let redis: Redis;
  let env: Record<string, string>;
  const apps: AppProcess[] = [];
  let simulatorA: AppProcess;
  let crud: AppProcess;
  let api: JsonCall;
  let productId: string;

  const startSimulator = async (consumer: string) => {
    const app = startApp(
      'simulator',
      await freePort(),
      { ...env, ...SIMULATION, SIM_CONSUMER: consumer },
      consumer,
    );
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    const url = servers.databaseUrl;
    const schemaOwner = new Database({ url });
    await syncEntitySchema(schemaOwner, loadEntities(path.resolve(__dirname, '../../../entities')));
    await schemaOwner.close();
    pool = servers.pool({ max: 2 });
    productId = uuidv7();
    await pool.query("insert into product (id, name, price, stock) values ($1, 'ramen', '12.00', 100000)", [
      productId,
    ]);
    redis = servers.redisClient;
    env = { DATABASE_URL: url, REDIS_URL: servers.redis.url, API_TOKENS: TOKEN };
    servers.atStop(() => Promise.all(apps.map((app) => app.kill())));
    const events = startApp('events', await freePort(), env);
    crud = startApp('crud', await freePort(), env);
    apps.push(events, crud, startApp('cdc-relay', await freePort(), env));
    simulatorA = await startSimulator('simulator-a');
    await Promise.all(apps.map((app) => app.ready()));
    api = jsonClient(events.url, { authorization: `Bearer ${TOKEN}` });
  }, 180_000);

  const placeOrder = async (n: number, quantity = 1): Promise<PlacedOrder> => {
    const correlationId = `corr-${uuidv7()}`;
    const address = `${n} Loop Road`;
    const reply = await api(
      'POST',
      '/orders',
      { customer: 'simulator-spec', address, items: [{ product_id: productId, quantity }] },
      { 'x-correlation-id': correlationId },
    );
    if (reply.status !== 201) throw new Error(`POST /orders: ${reply.status} ${JSON.stringify(reply.body)}`);
    return { id: String(reply.body['id']), address, correlationId };
  };

  /** Places orders until one that the kitchen `rejects` (or accepts), by the seeded choice. */
  const placeOrderThat = async (rejected: boolean): Promise<PlacedOrder> => {
    for (let n = 0; n < 50; n++) {
      const order = await placeOrder(1000 + n);
      if (planner.rejects(order.id) === rejected) return order;
      await waitFor(
        'the other order ended',
        async () => ['delivered', 'cancelled'].includes(await statusOf(order.id)),
        30_000,
      );
    }
    throw new Error('no such order in 50 tries');
  };

  const statusOf = async (orderId: string) => String((await api('GET', `/orders/${orderId}`)).body['status']);

  const eventsOn = async (stream: string): Promise<EventEnvelope[]> =>
    (await redis.xrange(stream, '-', '+')).map(([, fields]) => decodeEnvelope(fields));

  const eventsOf = async (stream: string, orderId: string) =>
    (await eventsOn(stream)).filter((e) => e.subject === orderId);

  const traceIdOf = (event: EventEnvelope) => event.traceparent?.split('-')[1];

  it('takes an order placed over REST to delivered: six lifecycle events, kitchen steps, courier fixes', async () => {
    const order = await placeOrderThat(false);
    await waitFor('delivered', async () => (await statusOf(order.id)) === 'delivered', 30_000);

    const lifecycle = await eventsOf(Streams.orders, order.id);
    expect(lifecycle.map((e) => [e.type, e.sequence])).toEqual([
      ['order.created', 1],
      ['order.confirmed', 2],
      ['order.preparing', 3],
      ['order.ready', 4],
      ['order.out_for_delivery', 5],
      ['order.delivered', 6],
    ]);
    const kitchen = await eventsOf(Streams.kitchen, order.id);
    expect(kitchen.map((e) => e.type)).toEqual(['kitchen.accepted', 'kitchen.started', 'kitchen.ready']);
    const couriers = await eventsOf(Streams.couriers, order.id);
    const types = couriers.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['courier.assigned', 'courier.picked_up']);
    expect(types[types.length - 1]).toBe('courier.delivered');
    const fixes = couriers.filter((e) => e.type === 'courier.location');
    expect(fixes.length).toBeGreaterThanOrEqual(2);
    expect(fixes.length).toBe(types.length - 3);
    expect(fixes[fixes.length - 1].data).toMatchObject(positionFor(order.address, settings.cityBox));

    // Each step: the order's correlation id, caused by the order event that started its phase, in its
    // trace, with the id the planner gives that step.
    const causes: Record<string, string> = {
      'kitchen.accepted': 'order.created',
      'kitchen.started': 'order.confirmed',
      'kitchen.ready': 'order.preparing',
      'courier.assigned': 'order.ready',
      'courier.picked_up': 'order.ready',
      'courier.location': 'order.out_for_delivery',
      'courier.delivered': 'order.out_for_delivery',
    };
    for (const step of [...kitchen, ...couriers]) {
      const cause = lifecycle.find((e) => e.type === causes[step.type])!;
      expect(step).toMatchObject({
        source: 'simulator',
        correlationid: order.correlationId,
        causationid: cause.id,
      });
      expect(traceIdOf(cause)).toMatch(/^[0-9a-f]{32}$/);
      expect(traceIdOf(step)).toBe(traceIdOf(cause));
    }
    expect(kitchen[0].id).toBe(stepEventId(order.id, 'kitchen.accepted'));
    expect(fixes[1].id).toBe(stepEventId(order.id, 'courier.location.1'));
    // Each order event that a step caused names that step as its cause.
    expect(lifecycle[1].causationid).toBe(kitchen[0].id);
    expect(lifecycle[4].causationid).toBe(couriers[1].id);

    await waitFor(
      'journey ended',
      async () => (await redis.sismember(JOURNEY_KEYS.inFlight, order.id)) === 0,
      10_000,
    );
    const metrics = await (await fetch(`${simulatorA.url}/metrics`)).text();
    expect(metrics).toMatch(
      /simulator_steps_published_total\{type="courier.location",app="simulator"\} [1-9]/,
    );
    expect(metrics).toMatch(/simulator_journeys_in_flight\{app="simulator"\} \d/);
    expect(await promtoolProblems(metrics)).toBe('');
  });

  it('ends a rejected order cancelled with its stock back, and stops a cancelled order’s journey', async () => {
    const stockBefore = async () =>
      Number(
        (await pool.query<{ stock: number }>('select stock from product where id = $1', [productId])).rows[0]
          .stock,
      );
    const rejected = await placeOrderThat(true);
    await waitFor(
      'rejected order cancelled',
      async () => (await statusOf(rejected.id)) === 'cancelled',
      30_000,
    );
    const cancelled = (await eventsOf(Streams.orders, rejected.id)).map((e) => [
      e.type,
      (e.data as { trigger?: string }).trigger,
    ]);
    expect(cancelled).toEqual([
      ['order.created', undefined],
      ['order.cancelled', 'kitchen.rejected'],
    ]);
    expect((await eventsOf(Streams.kitchen, rejected.id)).map((e) => e.type)).toEqual(['kitchen.rejected']);

    const before = await stockBefore();
    const order = await placeOrderThat(false);
    expect(await stockBefore()).toBe(before - 1);
    await waitFor('confirmed', async () => (await statusOf(order.id)) === 'confirmed', 30_000);
    const cancel = await api('POST', `/orders/${order.id}/cancel`, { reason: 'changed my mind' });
    expect(cancel.status).toBe(200);
    expect(await stockBefore()).toBe(before);
    await waitFor(
      'journey ended',
      async () => (await redis.sismember(JOURNEY_KEYS.inFlight, order.id)) === 0,
      10_000,
    );
    const stepsAtCancel = [
      ...(await eventsOf(Streams.kitchen, order.id)),
      ...(await eventsOf(Streams.couriers, order.id)),
    ];
    // The whole journey would take about 4 s at this speed; nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const stepsLater = [
      ...(await eventsOf(Streams.kitchen, order.id)),
      ...(await eventsOf(Streams.couriers, order.id)),
    ];
    expect(stepsLater).toEqual(stepsAtCancel);
    expect(stepsLater.some((e) => e.type.startsWith('courier.'))).toBe(false);
    expect(await redis.zrangebyscore(JOURNEY_KEYS.due, '-inf', '+inf')).not.toContainEqual(
      expect.stringContaining(order.id),
    );
    expect(await statusOf(order.id)).toBe('cancelled');
  });

  it('loses and doubles no step when a replica is SIGKILLed mid-journey with many orders in flight', async () => {
    const simulatorB = await startSimulator('simulator-b');
    await simulatorB.ready();
    const orders: PlacedOrder[] = [];
    const place = async (count: number) => {
      for (let i = 0; i < count; i += 5) {
        orders.push(
          ...(await Promise.all(Array.from({ length: 5 }, (_, j) => placeOrder(2000 + orders.length + j)))),
        );
      }
    };
    await place(40);
    await waitFor('journeys under way', async () => (await redis.scard(JOURNEY_KEYS.inFlight)) >= 20, 20_000);
    const inFlightAtKill = await redis.scard(JOURNEY_KEYS.inFlight);
    await simulatorA.kill('SIGKILL');
    await place(10);
    // A comes back under its own name next to B: two replicas share what is left.
    const restarted = await startSimulator('simulator-a');
    await restarted.ready();

    await waitFor(
      'every order delivered or cancelled',
      async () => {
        const statuses = await Promise.all(orders.map((o) => statusOf(o.id)));
        return statuses.every((s) => s === 'delivered' || s === 'cancelled');
      },
      90_000,
      250,
    );
    expect(inFlightAtKill).toBeGreaterThanOrEqual(20);

    const [lifecycle, kitchen, couriers] = await Promise.all([
      eventsOn(Streams.orders),
      eventsOn(Streams.kitchen),
      eventsOn(Streams.couriers),
    ]);
    // Across both streams, not one event id twice.
    const stepIds = [...kitchen, ...couriers].map((e) => e.id);
    expect(stepIds.length - new Set(stepIds).size).toBe(0);
    for (const order of orders) {
      const own = lifecycle.filter((e) => e.subject === order.id);
      const steps = [...kitchen, ...couriers].filter((e) => e.subject === order.id);
      if (planner.rejects(order.id)) {
        expect([order.id, own.map((e) => e.type)]).toEqual([order.id, ['order.created', 'order.cancelled']]);
        expect(steps.map((e) => e.id)).toEqual([stepEventId(order.id, 'kitchen.rejected')]);
        continue;
      }
      expect([order.id, own.map((e) => e.sequence)]).toEqual([order.id, [1, 2, 3, 4, 5, 6]]);
      // Exactly the steps the planner plans for this order, each once.
      const planned = own.slice(0, 5).flatMap((trigger) => {
        const reaction = planner.react(trigger, { address: order.address }, Date.now());
        return reaction.kind === 'schedule' ? reaction.steps.map((s) => s.event.id) : [];
      });
      expect([order.id, steps.map((e) => e.id).sort()]).toEqual([order.id, [...planned].sort()]);
    }
    expect(await redis.xlen(Streams.deadLetters)).toBe(0);
    expect(await redis.scard(JOURNEY_KEYS.inFlight)).toBe(0);
  }, 150_000);

  it('npm run demo places orders at the rate, follows them to the end and sums them up', async () => {
    const demo = await runCommand('tools/src/demo/main.ts', [
      '--rate',
      '10',
      '--duration',
      '2',
      '--drain',
      '60',
      '--events-url',
      apps[0].url,
      '--crud-url',
      crud.url,
      '--token',
      TOKEN,
    ]);
    expect([demo.code, demo.stderr]).toEqual([0, '']);
    const summary = demo.stdout.slice(demo.stdout.indexOf('demo summary'));
    const count = (label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(summary)?.[1]);
    expect(count('placed')).toBe(20);
    expect(count('delivered') + count('cancelled')).toBe(20);
    expect(count('delivered')).toBeGreaterThan(0);
    expect(count('in flight')).toBe(0);
    expect(summary).toMatch(/created → delivered {3}p50 \d+\.\d s {3}p99 \d+\.\d s/);
    expect(demo.stdout).toMatch(/\] placed \d+ · in flight \d+ · delivered \d+ · cancelled \d+/);
  });
});
