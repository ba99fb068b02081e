import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { useSpecServers, waitFor } from '@choreo/testing';
import { ConnectionProbesModule } from './connection-probes.module';
import { runApp } from './run-app';

describe('an app on runApp (real Redis and PostgreSQL)', () => {
  const servers = useSpecServers({ redis: true, postgres: true });
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const { redis, postgres } = servers;
    app = await runApp({
      app: 'probe',
      module: ConnectionProbesModule.forRoot({ redisUrl: redis.url, databaseUrl: postgres.url }),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 1024 * 1024, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  };

  it('is live, serves metrics and echoes a correlation id', async () => {
    const res = await fetch(`${base}/livez`, { headers: { 'X-Correlation-ID': 'abc-123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('abc-123');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_total\{method="GET",route="\/livez",status="200",app="probe"\} 1/);
  });

  it('is ready only while its Redis and PostgreSQL connections are up', async () => {
    await waitFor('ready', async () => (await readyz()).status === 200);
    expect((await readyz()).body.checks).toEqual({ redis: 'up', postgres: 'up' });

    await servers.redis.kill();
    await waitFor('not ready without Redis', async () => (await readyz()).status === 503);
    expect((await readyz()).body.checks).toMatchObject({ redis: 'down', postgres: 'up' });
    await servers.redis.restart();
    await waitFor('ready with Redis back', async () => (await readyz()).status === 200, 15_000);

    await servers.postgres.kill();
    await waitFor('not ready without PostgreSQL', async () => (await readyz()).status === 503);
    expect((await readyz()).body.checks).toMatchObject({ redis: 'up', postgres: 'down' });
    await servers.postgres.restart();
    await waitFor('ready with PostgreSQL back', async () => (await readyz()).status === 200, 15_000);
  });
});
