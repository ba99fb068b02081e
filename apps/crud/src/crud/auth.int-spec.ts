import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { runApp } from '@choreo/runtime';
import { startTestJwks, TestJwks, useSpecServers } from '@choreo/testing';
import { CrudModule } from './crud.module';

const STATIC_TOKEN = 'static-token-0123456789';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'choreo-api';

// JWT auth against a JWKS this spec serves itself, and rate limits counted in one Redis by two
// replicas of the crud app.
describe('crud auth: JWTs from a JWKS, roles per entity, rate limits shared by replicas', () => {
  const servers = useSpecServers({ postgres: true, redis: true, database: 'auth' });
  const replicas: string[] = [];
  let jwks: TestJwks;
  let sign: TestJwks['sign'];
  let foreign: string;

  beforeAll(async () => {
    jwks = await startTestJwks(ISSUER, AUDIENCE);
    servers.atStop(() => jwks.close());
    sign = jwks.sign;
    foreign = await sign({ role: 'admin' }, { foreignKey: true });

    const dir = mkdtempSync(path.join(os.tmpdir(), 'auth-entities-'));
    writeFileSync(path.join(dir, 'item.yaml'), 'name: item\nfields:\n  label: { type: text }\n');
    writeFileSync(path.join(dir, 'note.yaml'), 'name: note\nfields:\n  text: { type: text }\n');
    for (let i = 0; i < 2; i++) {
      const app: INestApplication = await runApp({
        app: 'crud',
        module: CrudModule.forRoot({
          entitiesDir: dir,
          database: { url: servers.databaseUrl, poolMax: 3 },
          auth: {
            tokens: [STATIC_TOKEN],
            protectReads: false,
            jwt: {
              jwksUrl: jwks.url,
              issuer: ISSUER,
              audience: AUDIENCE,
              roleClaim: 'app_metadata.role',
              writeRoles: { item: ['editor', 'admin'], '*': ['admin'] },
            },
          },
          rateLimit: {
            writes: { max: 4, windowMs: 60_000 },
            reads: { max: 1000, windowMs: 60_000 },
            redis: servers.newRedisClient(),
          },
        }),
        http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 4096, corsOrigins: [] },
        log: { level: 'silent' },
      });
      servers.atStop(() => app.close());
      replicas.push(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
    }
  });

  const post = (replica: number, entity: string, token: string) =>
    fetch(`${replicas[replica]}/crud/${entity}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(entity === 'item' ? { label: 'x' } : { text: 'x' }),
    });
  const refusal = async (response: Response) => ({
    status: response.status,
    message: ((await response.json()) as { message: string }).message,
  });

  it('lets a JWT write what its role may write, and says why otherwise', async () => {
    const editor = await sign({ app_metadata: { role: 'editor' } });
    expect((await post(0, 'item', editor)).status).toBe(201);
    expect(await refusal(await post(0, 'note', editor))).toEqual({
      status: 403,
      message: "role 'editor' may not write note; allowed: admin",
    });
    const roleless = await sign({});
    expect(await refusal(await post(1, 'item', roleless))).toEqual({
      status: 403,
      message: 'the token has no app_metadata.role claim; writing item needs one of: editor, admin',
    });
    const viewer = await sign({ app_metadata: { role: 'viewer' } });
    expect(
      (await fetch(`${replicas[0]}/crud/item`, { headers: { authorization: `Bearer ${viewer}` } })).status,
    ).toBe(200);
  });

  it('answers 401 naming why a JWT is refused, with the RFC 6750 challenge', async () => {
    const cases: [string, string][] = [
      [await sign({ app_metadata: { role: 'admin' } }, { expired: true }), 'it has expired'],
      [
        await sign({ app_metadata: { role: 'admin' } }, { issuer: 'https://evil.test' }),
        `its issuer is not ${ISSUER}`,
      ],
      [
        await sign({ app_metadata: { role: 'admin' } }, { audience: 'other' }),
        `its audience does not include ${AUDIENCE}`,
      ],
      [foreign, 'its signature does not verify'],
      ['a.b.c', 'it is not a well-formed JWT'],
    ];
    for (const [token, why] of cases) {
      const response = await post(1, 'note', token);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await refusal(response)).toEqual({
        status: 401,
        message: `the bearer token is refused: ${why}`,
      });
    }
    expect((await post(1, 'note', STATIC_TOKEN)).status).toBe(201);
  });

  it('limits writes per token across replicas with 429, Retry-After and RateLimit-* headers', async () => {
    const token = await sign({ sub: 'limited', app_metadata: { role: 'admin' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(i % 2, 'note', token)).status);
    expect(statuses).toEqual([201, 201, 201, 201]);
    for (const replica of [0, 1]) {
      const limited = await post(replica, 'note', token);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('ratelimit-limit')).toBe('4');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      expect(await limited.json()).toMatchObject({ statusCode: 429, error: 'too_many_requests' });
    }
    // Another caller, and this caller's reads (another route group), have their own counts.
    const other = await sign({ sub: 'other', app_metadata: { role: 'admin' } });
    expect((await post(0, 'note', other)).status).toBe(201);
    const read = await fetch(`${replicas[1]}/crud/note`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(read.headers.get('ratelimit-limit')).toBe('1000');
  });
});
