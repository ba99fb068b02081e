import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Body, Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpErrorFilter } from '@choreo/http';
import { currentCorrelationId, injectTraceContext, startTracing } from '@choreo/observability';
import { runApp } from './run-app';

/** What the handler sees of the request's context, after an await, as the app's own code would. */
async function contextSeen(body?: unknown) {
  await delay(1);
  return { correlationId: currentCorrelationId(), traceparent: injectTraceContext({})['traceparent'], body };
}

@Controller('probe')
class ProbeController {
  @Get()
  read() {
    return contextSeen();
  }

  @Post()
  write(@Body() body: unknown) {
    return contextSeen(body);
  }
}

// The error filter every REST module registers, so refusals read as the apps answer them.
@Module({ controllers: [ProbeController], providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }] })
class ProbeModule {}

describe('the runtime HTTP context (Fastify hooks)', () => {
  const TRACE = '0af7651916cd43dd8448eb211c80319c';
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    startTracing('probe', {}); // no OTLP endpoint: propagator and context manager only, as deployed
    app = await runApp({
      app: 'probe',
      module: ProbeModule,
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 1024, corsOrigins: [] },
      log: { level: 'silent' },
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  const headers = (correlationId: string) => ({
    'content-type': 'application/json',
    'x-correlation-id': correlationId,
    traceparent: `00-${TRACE}-b7ad6b7169203331-01`,
  });

  type Seen = Awaited<ReturnType<typeof contextSeen>>;

  /**
   * Sends the body in two writes 50 ms apart, so its end arrives in a later socket read: the body's
   * events then run in the connection's async context, not the request's.
   */
  function sendInTwoParts(method: string, body: string | undefined, correlationId: string) {
    return new Promise<{ status: number; correlation: unknown; seen: Seen }>((resolve, reject) => {
      const req = httpRequest(`${base}/probe`, { method, headers: headers(correlationId) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            correlation: res.headers['x-correlation-id'],
            seen: JSON.parse(text) as Seen,
          }),
        );
      });
      req.on('error', reject);
      if (body === undefined) {
        req.end();
        return;
      }
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 50);
    });
  }

  it.each([
    ['GET', undefined],
    ['POST', { big: 'x'.repeat(500) }],
  ])(
    'runs a %s handler, after its body is read, in the caller’s correlation id and trace',
    async (method, body) => {
      const reply = await sendInTwoParts(method, body && JSON.stringify(body), `corr-${method}`);
      expect(reply.status).toBe(method === 'POST' ? 201 : 200);
      expect(reply.correlation).toBe(`corr-${method}`);
      expect(reply.seen.correlationId).toBe(`corr-${method}`);
      expect(reply.seen.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-0[01]$`));
      expect(reply.seen.body).toEqual(body);
    },
  );

  it('keeps concurrent requests apart', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetch(`${base}/probe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-correlation-id': `c-${i}` },
          body: JSON.stringify({ i }),
        });
        return (await res.json()) as { correlationId: string; body: { i: number } };
      }),
    );
    for (const reply of replies) expect(reply.correlationId).toBe(`c-${reply.body.i}`);
  });

  it('refuses bodies that are not JSON or over the limit, reads an empty JSON body as none', async () => {
    const post = (body: string, type?: string) =>
      fetch(`${base}/probe`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
    const refusal = async (response: Response) => ({
      status: response.status,
      ...((await response.json()) as { error: string; message: string }),
    });
    expect(await refusal(await post('a=b', 'application/x-www-form-urlencoded'))).toMatchObject({
      status: 415,
      error: 'unsupported_media_type',
      message:
        'the body must be JSON (Content-Type: application/json), not application/x-www-form-urlencoded',
    });
    expect(await refusal(await post('plain', 'text/plain'))).toMatchObject({ status: 415 });
    expect(
      await refusal(await post(JSON.stringify({ x: 'y'.repeat(2000) }), 'application/json')),
    ).toMatchObject({ status: 413, error: 'payload_too_large' });
    expect(await refusal(await post('{"broken":', 'application/json'))).toMatchObject({
      status: 400,
      error: 'invalid_json',
      message: expect.stringMatching(/^the body is not JSON: /),
    });
    expect(await refusal(await post('{"__proto__":{"x":1}}', 'application/json'))).toMatchObject({
      status: 400,
      error: 'invalid_json',
    });
    const merge = await post('{"a":1}', 'application/merge-patch+json');
    expect(((await merge.json()) as { body: unknown }).body).toEqual({ a: 1 });
    const empty = await post('', 'application/json');
    expect(empty.status).toBe(201);
    expect(((await empty.json()) as { body?: unknown }).body).toBeUndefined();
  });

  it('counts requests by route pattern', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/probe",status="201",app="probe"\} \d+/,
    );
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/probe",status="415",app="probe"\} 2/,
    );
  });
});
