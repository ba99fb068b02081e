import { randomUUID } from 'node:crypto';
import { lintOpenApi, useSpecServers } from '@choreo/testing';
import { Replica, startReplica, trackingToken } from './testing/realtime-harness';

type Operation = { summary?: string; security?: unknown[]; responses: Record<string, unknown> };

// The notifications app's OpenAPI document (/sse, /sse/tickets, the live page's routes): Redocly
// lint-clean, every operation with a summary and security, and every status that requests provoke
// from a real replica documented for its operation.
describe('notifications OpenAPI: lint-clean, and every answer documented', () => {
  const servers = useSpecServers({ redis: true, postgres: true, database: 'notifications_openapi' });
  let replica: Replica;
  let document: { paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    replica = await startReplica({ redisUrl: servers.redis.url, databaseUrl: servers.databaseUrl });
    servers.atStop(() => replica.kill('SIGTERM'));
    const response = await fetch(`${replica.httpUrl}/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as typeof document;
  });

  it('passes the Redocly linter with no error or warning', () => {
    expect(lintOpenApi(document)).toEqual([]);
  });

  it('documents /sse and /sse/tickets, each operation with a summary and security', () => {
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/sse', '/sse/tickets']));
    for (const [route, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        expect([route, method, typeof operation.summary]).toEqual([route, method, 'string']);
        expect([route, method, Array.isArray(operation.security)]).toEqual([route, method, true]);
      }
    expect(document.paths['/sse'].get.security).toEqual([{}, { bearer: [] }]);
  });

  it('documents every status the routes answer', async () => {
    const orderId = randomUUID();
    const token = await trackingToken(orderId);
    const expired = await trackingToken(orderId, -30);
    const otherOrders = await trackingToken(randomUUID());
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const json = { 'content-type': 'application/json' };
    const tickets = (body: string, headers: Record<string, string> = json): RequestInit => ({
      method: 'POST',
      headers,
      body,
    });
    const order = `order:${orderId}`;
    const issued = await fetch(
      `${replica.httpUrl}/sse/tickets`,
      tickets(JSON.stringify({ channels: [{ channel: 'entity:product' }] })),
    );
    const { ticket } = (await issued.json()) as { ticket: string };
    const cases: [string, string, string, RequestInit][] = [
      ['/sse', 'get', '/sse?channel=entity:product', {}],
      ['/sse', 'get', `/sse?channel=${order}`, { headers: bearer(token) }],
      ['/sse', 'get', '/sse', {}],
      ['/sse', 'get', '/sse?channel=nope', {}],
      ['/sse', 'get', `/sse?channel=${order}`, {}],
      ['/sse', 'get', `/sse?channel=${order}`, { headers: bearer('garbled') }],
      ['/sse', 'get', `/sse?channel=${order}`, { headers: bearer(expired) }],
      ['/sse', 'get', `/sse?channel=${order}`, { headers: bearer(otherOrders) }],
      ['/sse', 'get', `/sse?ticket=${ticket}`, {}],
      ['/sse', 'get', `/sse?ticket=${ticket}`, {}], // used
      [
        '/sse/tickets',
        'post',
        '/sse/tickets',
        tickets(JSON.stringify({ channels: [{ channel: order, token }] })),
      ],
      ['/sse/tickets', 'post', '/sse/tickets', tickets('{"channels":[]}')],
      ['/sse/tickets', 'post', '/sse/tickets', tickets('{"channels":[{"channel":7}]}')],
      ['/sse/tickets', 'post', '/sse/tickets', tickets('{"channels":[{"channel":"nope"}]}')],
      ['/sse/tickets', 'post', '/sse/tickets', tickets(`{"channels":[{"channel":"${order}"}]}`)],
      [
        '/sse/tickets',
        'post',
        '/sse/tickets',
        tickets(`{"channels":[{"channel":"${order}","token":"${otherOrders}"}]}`),
      ],
      ['/sse/tickets', 'post', '/sse/tickets', tickets('{')],
      ['/sse/tickets', 'post', '/sse/tickets', tickets('x', { 'content-type': 'text/plain' })],
      [
        '/sse/tickets',
        'post',
        '/sse/tickets',
        tickets(JSON.stringify({ channels: [{ channel: 'x'.repeat(2_000_000) }] })),
      ],
      ['/', 'get', '/', {}],
      ['/assets/{name}', 'get', '/assets/nope.js', {}],
      ['/live-page/config.json', 'get', '/live-page/config.json', {}],
    ];
    const undocumented: string[] = [];
    const seen = new Set<string>();
    for (const [route, method, url, init] of cases) {
      const controller = new AbortController();
      const response = await fetch(`${replica.httpUrl}${url}`, { ...init, signal: controller.signal });
      controller.abort(); // an event stream stays open: the status is all this needs
      seen.add(`${method} ${route} ${response.status}`);
      if (!(String(response.status) in document.paths[route][method].responses))
        undocumented.push(`${method} ${url.slice(0, 80)} → ${response.status}`);
    }
    expect(undocumented).toEqual([]);
    // The cases reach what they are meant to: a stream, a ticket, each refusal.
    for (const status of [200, 400, 401, 403]) expect(seen).toContain(`get /sse ${status}`);
    for (const status of [201, 400, 401, 403, 413, 415])
      expect(seen).toContain(`post /sse/tickets ${status}`);
  });
});
