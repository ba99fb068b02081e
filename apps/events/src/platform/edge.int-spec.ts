import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadEntities } from '@choreo/entities';
import { Database, syncEntitySchema } from '@choreo/persistence';
import { runApp } from '@choreo/runtime';
import { startTestJwks, TestJwks, useSpecServers } from '@choreo/testing';
import { EntityEventsModule } from '../entity-events/entity-events.module';
import { OrdersModule } from '../orders/orders.module';
import { eventsUnderTest } from '../test-fixtures/events-under-test';

const STATIC_TOKEN = 'events-static-token-0123456789';

// The events app's edge as crud's: JWTs verified against a JWKS this spec serves, write roles per
// entity, and rate limits per route group counted in one Redis by two replicas.
describe('events edge: JWTs from a JWKS, roles per entity, rate limits shared by replicas', () => {
  const servers = useSpecServers({ postgres: true, redis: true, database: 'events_edge' });
  const replicas: string[] = [];
  let jwks: TestJwks;

  beforeAll(async () => {
    jwks = await startTestJwks();
    servers.atStop(() => jwks.close());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'events-edge-entities-'));
    writeFileSync(path.join(dir, 'item.yaml'), 'name: item\nfields:\n  label: { type: text }\n');
    writeFileSync(path.join(dir, 'note.yaml'), 'name: note\nfields:\n  text: { type: text }\n');
    const catalog = loadEntities(dir);
    const schemaOwner = new Database({ url: servers.databaseUrl });
    await syncEntitySchema(schemaOwner, catalog);
    await schemaOwner.close();
    for (let i = 0; i < 2; i++) {
      const app: INestApplication = await runApp({
        app: 'events',
        module: eventsUnderTest(
          {
            database: { url: servers.databaseUrl, poolMax: 3 },
            auth: {
              tokens: [STATIC_TOKEN],
              protectReads: false,
              jwt: {
                jwksUrl: jwks.url,
                issuer: jwks.issuer,
                audience: jwks.audience,
                roleClaim: 'app_metadata.role',
                writeRoles: { item: ['editor', 'admin'], '*': ['admin'] },
              },
            },
            rateLimit: {
              writes: { max: 4, windowMs: 60_000 },
              reads: { max: 1000, windowMs: 60_000 },
              redisUrl: servers.redis.url,
            },
            openApi: false,
          },
          OrdersModule.forRoot({
            tracking: { secret: 'events-edge-spec-secret-0123456789ab', ttlSeconds: 60 },
          }),
          EntityEventsModule.forRoot({ catalog }),
        ),
        http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 4096, corsOrigins: [] },
        log: { level: 'silent' },
      });
      servers.atStop(() => app.close());
      replicas.push(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
    }
  });

  const post = (replica: number, route: string, token: string, body: unknown = { label: 'x' }) =>
    fetch(`${replicas[replica]}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const refusal = async (response: Response) => ({
    status: response.status,
    message: ((await response.json()) as { message: string }).message,
  });

  it('lets a JWT write what its role may write on /events and /orders, and says why otherwise', async () => {
    const editor = await jwks.sign({ app_metadata: { role: 'editor' } });
    expect((await post(0, '/events/item', editor)).status).toBe(201);
    expect(await refusal(await post(1, '/events/note', editor, { text: 'x' }))).toEqual({
      status: 403,
      message: "role 'editor' may not write note; allowed: admin",
    });
    // /orders has no entity: the `*` rule decides.
    expect(await refusal(await post(0, '/orders', editor, {}))).toEqual({
      status: 403,
      message: "role 'editor' may not write here; allowed: admin",
    });
    const roleless = await jwks.sign({});
    expect(await refusal(await post(1, '/events/item', roleless))).toEqual({
      status: 403,
      message: 'the token has no app_metadata.role claim; writing item needs one of: editor, admin',
    });
    const viewer = await jwks.sign({ app_metadata: { role: 'viewer' } });
    const read = await fetch(`${replicas[0]}/orders`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(read.status).toBe(200);
  });

  it('answers 401 naming why a JWT is refused, with the RFC 6750 challenge', async () => {
    const admin = { app_metadata: { role: 'admin' } };
    const cases: [string, string][] = [
      [await jwks.sign(admin, { expired: true }), 'it has expired'],
      [await jwks.sign(admin, { issuer: 'https://evil.test' }), `its issuer is not ${jwks.issuer}`],
      [await jwks.sign(admin, { audience: 'other' }), `its audience does not include ${jwks.audience}`],
      [await jwks.sign(admin, { foreignKey: true }), 'its signature does not verify'],
    ];
    for (const [token, why] of cases) {
      const response = await post(1, '/events/note', token, { text: 'x' });
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await refusal(response)).toEqual({
        status: 401,
        message: `the bearer token is refused: ${why}`,
      });
    }
    expect((await post(1, '/events/note', STATIC_TOKEN, { text: 'x' })).status).toBe(201);
  });

  it('limits writes per token across replicas and routes with 429, Retry-After and RateLimit-* headers', async () => {
    const token = await jwks.sign({ sub: 'limited', app_metadata: { role: 'admin' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(i % 2, '/events/item', token)).status);
    expect(statuses).toEqual([201, 201, 201, 201]);
    for (const [replica, route] of [
      [0, '/events/item'],
      [1, '/orders'],
    ] as const) {
      const limited = await post(replica, route, token);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('ratelimit-limit')).toBe('4');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      expect(await limited.json()).toMatchObject({ statusCode: 429, error: 'too_many_requests' });
    }
    // Another caller, and this caller's reads (another route group), have their own counts.
    const other = await jwks.sign({ sub: 'other', app_metadata: { role: 'admin' } });
    expect((await post(0, '/events/item', other)).status).toBe(201);
    const read = await fetch(`${replicas[1]}/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(read.headers.get('ratelimit-limit')).toBe('1000');
  });
});
