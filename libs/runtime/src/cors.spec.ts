import type { AddressInfo } from 'node:net';
import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { runApp } from './run-app';

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return [];
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

// What a browser's PostgREST client (postgrest-js, supabase-js) and choreo's own pages read from a
// cross-origin answer: each must be listed in Access-Control-Expose-Headers, or the browser hides it.
const READ_BY_BROWSER_CLIENTS = [
  'Content-Range',
  'Preference-Applied',
  'Location',
  'ETag',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'X-Event-ID',
];

describe('CORS for configured origins', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await runApp({
      app: 'cors',
      module: ThingsModule,
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 4096, corsOrigins: ['http://allowed.example'] },
      log: { level: 'silent' },
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('exposes every header browser PostgREST clients read, to an allowed origin only', async () => {
    const allowed = await fetch(`${base}/things`, { headers: { origin: 'http://allowed.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
    const exposed = (allowed.headers.get('access-control-expose-headers') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase());
    expect(READ_BY_BROWSER_CLIENTS.filter((name) => !exposed.includes(name.toLowerCase()))).toEqual([]);
    const other = await fetch(`${base}/things`, { headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
