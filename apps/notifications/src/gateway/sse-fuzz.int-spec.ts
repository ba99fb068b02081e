import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  deepJson,
  fuzzContentType,
  fuzzMethod,
  fuzzRequest,
  fuzzRoutes,
  hostileOperand,
  hostileSegment,
  hostileText,
  hugeJson,
  send,
  useSpecServers,
} from '@choreo/testing';
import { Replica, startReplica, trackingToken } from '../testing/realtime-harness';

const BODY_LIMIT = 16384;

// The notifications app's REST routes (`/sse`, `/sse/tickets`; the WebSocket has its own specs), on a
// real replica process: generated requests may not get a 5xx or a dropped connection, and a refused
// one may neither issue nor use up a ticket. An accepted `/sse` is answered by its stream's head.
describe('notifications fuzz: no 5xx, no dropped connection, a refusal issues or spends no ticket', () => {
  const servers = useSpecServers({ postgres: true, redis: true, database: 'notifications_fuzz' });
  let replica: Replica;
  const orderId = randomUUID();
  let token: string;
  let tickets: string[];

  beforeAll(async () => {
    replica = await startReplica({
      redisUrl: servers.redis.url,
      databaseUrl: servers.databaseUrl,
      BODY_LIMIT: `${BODY_LIMIT}b`,
    });
    servers.atStop(() => replica.kill('SIGTERM'));
    token = await trackingToken(orderId);
    tickets = [];
    for (const channels of [[{ channel: 'entity:product' }], [{ channel: `order:${orderId}`, token }]]) {
      const reply = await fetch(`${replica.httpUrl}/sse/tickets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channels }),
      });
      expect(reply.status).toBe(201);
      tickets.push(((await reply.json()) as { ticket: string }).ticket);
    }
  }, 90_000);

  it('answers HEAD /sse with the stream head at once, and spends no ticket', async () => {
    const head = await send(replica.port, 'HEAD', `/sse?ticket=${tickets[0]}`, {});
    expect(head.status).toBe(200);
    expect(await servers.redisClient.exists(`rt:ticket:${tickets[0]}`)).toBe(1);
  });

  it('answers every generated request below 500, and refusals leave the tickets as they were', async () => {
    const redis = servers.redisClient;
    const channel = fc.oneof(
      fc.constantFrom('entity:product', 'aggregates:revenue_5m', `order:${orderId}`, 'order:nope', 'user:1'),
      hostileText,
    );
    const grant = fc.record(
      { channel, token: fc.oneof(fc.constant(token), hostileText, fc.integer()) },
      { requiredKeys: ['channel'] },
    );
    const bodies = fc.oneof(
      fc.constant(undefined),
      fc.array(grant, { maxLength: 22 }).map((channels) => JSON.stringify({ channels })),
      fc
        .subarray([{ channel: 'entity:product' }, { channel: `order:${orderId}`, token }], { minLength: 1 })
        .map((channels) => JSON.stringify({ channels })),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      deepJson,
      hugeJson(BODY_LIMIT * 2),
      hostileText,
    );
    const filters = fc.oneof(
      fc.tuple(fc.constant('channel'), channel),
      fc.tuple(fc.constant('ticket'), fc.oneof(fc.constantFrom(...tickets), hostileOperand)),
      fc.tuple(fc.constant('last_event_id'), hostileOperand),
      fc.tuple(hostileText, hostileOperand),
    );
    const targets = fc.oneof(
      { arbitrary: fc.constantFrom('/sse', '/sse/tickets'), weight: 4 },
      hostileSegment.map((s) => `/sse/${s}`),
      fc.constantFrom('/sse/', '/openapi.json', '/livez', '/readyz', '/metrics'),
    );
    const headers = fc
      .tuple(
        fc.option(fc.oneof(fc.constant(token), fc.constantFrom('x', 'Bearer', ''))),
        fc.option(fc.constantFrom('0-0', '{}', 'x'.repeat(300), 'e30')),
      )
      .map(([bearer, lastEventId]) => ({
        ...(bearer !== null && { authorization: `Bearer ${bearer}` }),
        ...(lastEventId !== null && { 'last-event-id': lastEventId }),
      }));
    const ticketKeys = async () => {
      const keys = (await redis.keys('rt:ticket:*')).sort();
      return { keys, values: keys.length > 0 ? await redis.mget(...keys) : [] };
    };
    const statuses = await fuzzRoutes({
      port: replica.port,
      requests: fuzzRequest({
        targets,
        filters,
        bodies,
        headers,
        methods: fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST'), weight: 3 }, fuzzMethod),
        contentTypes: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, fuzzContentType),
      }),
      snapshot: ticketKeys,
      numRuns: 300,
    });
    // The fuzz reached the handlers: streams opened, tickets issued, many requests refused.
    expect([200, 201, 400].map((status) => (statuses.get(status) ?? 0) > 0)).toEqual([true, true, true]);
  }, 120_000);
});
