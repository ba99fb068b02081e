import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// Whether startTracing loads the OpenTelemetry SDK, asked of a fresh process each time (the module
// cache of this one already holds whatever other specs loaded).

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

async function sdkModulesLoaded(env: Record<string, string>): Promise<string[]> {
  const script = `
    require('./libs/observability/src/tracing').startTracing('probe');
    const loaded = Object.keys(require.cache)
      .map((file) => /node_modules\\/(@opentelemetry\\/(sdk-node|exporter-trace-otlp-http|instrumentation-[a-z]+))\\//.exec(file)?.[1])
      .filter(Boolean);
    console.log(JSON.stringify([...new Set(loaded)].sort()));
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

describe('startTracing', () => {
  it('does not load the SDK, exporter or instrumentations without an OTLP endpoint', async () => {
    expect(await sdkModulesLoaded({})).toEqual([]);
  }, 60_000);

  it('loads them when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    expect(await sdkModulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toEqual([
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-ioredis',
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/sdk-node',
    ]);
  }, 60_000);
});
