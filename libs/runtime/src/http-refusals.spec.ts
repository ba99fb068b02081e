import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, INestApplication, Module, Param, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpErrorFilter } from '@choreo/http';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './http-refusals';
import { runApp } from './run-app';

@Controller('things')
class ThingsController {
  @Get(':id')
  read(@Param('id') id: string) {
    return { id };
  }

  @Post()
  write(@Body() body: unknown) {
    return { body };
  }
}

@Module({ controllers: [ThingsController], providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }] })
class ThingsModule {}

/** One raw HTTP/1.1 exchange on its own socket: what came back, or how the connection failed. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

/**
 * Uploads `bytes` the way curl does: `Expect: 100-continue`, then the whole body (chunked, or with
 * Content-Length), reading the answer only once everything is sent. A server that closes while the
 * upload is arriving resets the connection, and the kernel drops the unread answer: this rejects.
 */
function upload(port: number, bytes: number, chunked: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', reject);
    const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${bytes}`;
    socket.write(
      `POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    socket.once('data', (interim) => {
      expect(interim.toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      // The refusal may come in the same read as the interim answer.
      let answer = interim.toString().replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      socket.pause();
      const chunk = Buffer.alloc(64 * 1024, ' ');
      const framed = chunked
        ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
        : chunk;
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!socket.write(framed)) return void socket.once('drain', pump);
        }
        if (chunked) socket.write('0\r\n\r\n');
        if (answer.endsWith('}')) {
          socket.destroy();
          return resolve(answer);
        }
        socket.on('data', (data) => {
          answer += data.toString();
          if (answer.includes('\r\n\r\n{') && answer.endsWith('}')) {
            socket.destroy();
            resolve(answer);
          }
        });
        socket.on('end', () => resolve(answer));
        socket.resume();
      };
      pump();
    });
  });
}

describe('HTTP refusals: never a 5xx, never a dropped connection', () => {
  let app: INestApplication;
  let port: number;
  let base: string;

  beforeAll(async () => {
    app = await runApp({
      app: 'refusals',
      module: ThingsModule,
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 4096, corsOrigins: [] },
      log: { level: 'silent' },
    });
    port = (app.getHttpServer().address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers a method a path does not serve with 405 and Allow; OPTIONS with 204 and Allow', async () => {
    const put = await fetch(`${base}/things/1`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    expect(await put.json()).toMatchObject({ error: 'method_not_allowed' });
    const del = await fetch(`${base}/things`, { method: 'DELETE' });
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'POST']);
    const options = await fetch(`${base}/things/1`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, HEAD']);
    expect((await fetch(`${base}/nowhere`, { method: 'PUT' })).status).toBe(404);
  });

  it('answers CONNECT with a readable 405 instead of destroying the socket', async () => {
    const onPath = await rawExchange(port, 'CONNECT /things/1 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(onPath).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(onPath).toContain('Allow: GET, HEAD');
    const proxy = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect(proxy).toMatch(/^HTTP\/1\.1 405/);
    expect(proxy).toContain('"error":"method_not_allowed"');
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with a 400`, async () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const post = (body: string) =>
      fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const deep = await post(nested(MAX_JSON_DEPTH + 1));
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ error: 'json_too_deep' });
    expect((await post(nested(MAX_JSON_DEPTH))).status).toBe(201);
    expect(jsonDepthExceeds('{"a":"[[[[[[["}', 2)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[[","b":[[{}]]}', 3)).toBe(true);
  });

  it('answers every over-limit upload with a readable 413, chunked or with Content-Length', async () => {
    for (let i = 0; i < 4; i++) {
      for (const chunked of [false, true]) {
        const answer = await upload(port, 16 * 1024 * 1024, chunked);
        expect(answer).toMatch(/^HTTP\/1\.1 413 /);
        expect(answer).toContain('"statusCode":413');
      }
    }
  }, 60_000);
});
