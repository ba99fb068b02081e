import type { AddressInfo } from 'node:net';
import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { metricsRegistry } from '@choreo/observability';
import { runApp } from '@choreo/runtime';
import { StreamsMetrics } from '@choreo/streams';
import { promtoolProblems } from '@choreo/testing';

@Controller('ping')
class PingController {
  @Get()
  ping() {
    return { ok: true };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

// What every app serves at /metrics: Node's default metrics, the HTTP metrics of libs/runtime and the
// metrics of the libs an app runs (streams here; each app's own are checked by its spec), each with a
// series, linted by Prometheus' own promtool.
describe('/metrics passes `promtool check metrics`', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await runApp({
      app: 'promtool',
      module: PingModule,
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 1024, corsOrigins: [] },
      log: { level: 'silent' },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('reports no problem for the runtime, Node and stream metrics', async () => {
    const streams = StreamsMetrics.for(metricsRegistry());
    const labels = { stream: 'orders', group: 'events', type: 'order.created' };
    streams.handled.inc(labels);
    streams.failed.inc(labels);
    streams.pending.set({ stream: 'orders', group: 'events' }, 1);
    const deadLetters = { stream: 'dead-letters' };
    streams.deadLetters.length.set(deadLetters, 3);
    streams.deadLetters.oldestAgeSeconds.set(deadLetters, 86_400);
    streams.deadLetters.expired.inc(deadLetters, 2);
    streams.deadLetters.retentionSeconds.set(deadLetters, 1_209_600);
    streams.deadLetters.alertLength.set(deadLetters, 10_000);
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    expect((await fetch(`${base}/ping`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('http_requests_total{');
    expect(text).toContain('nodejs_active_handles{');
    expect(text).toContain('choreo_stream_events_handled_total{');
    expect(text).toContain('choreo_dead_letters_length{stream="dead-letters",app="promtool"} 3');
    expect(text).toContain(
      'choreo_dead_letters_oldest_age_seconds{stream="dead-letters",app="promtool"} 86400',
    );
    expect(await promtoolProblems(text)).toBe('');
  });

  it('would catch a gauge named like a counter', async () => {
    expect(await promtoolProblems('# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n')).toContain(
      'non-counter metrics should not have "_total" suffix',
    );
  });
});
