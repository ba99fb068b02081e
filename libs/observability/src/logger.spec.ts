import { Writable } from 'node:stream';
import { context } from '@opentelemetry/api';
import pino from 'pino';
import { runWithCorrelation } from './correlation';
import { loggerOptions, redactUrl } from './logger';
import { ensureTraceContext, injectTraceContext } from './trace-context';
import { startTracing, stopTracing } from './tracing';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino(loggerOptions('test-app', 'info'), sink), lines };
}

describe('logger', () => {
  beforeAll(() => startTracing('logger-spec', {}));
  afterAll(() => stopTracing());

  it('writes JSON lines carrying the correlation id and the caller trace id', async () => {
    const { logger, lines } = capture();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await context.with(ensureTraceContext({ traceparent }), () =>
      runWithCorrelation('corr-42', async () => {
        await Promise.resolve();
        logger.info('handled');
      }),
    );
    expect(lines[0]).toMatchObject({
      app: 'test-app',
      level: 'info',
      msg: 'handled',
      correlationid: 'corr-42',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
    });
  });

  it('starts a trace when the caller sent none, and passes it on', () => {
    const { logger, lines } = capture();
    const fields: Record<string, string> = {};
    context.with(ensureTraceContext({}), () => {
      logger.info('fresh');
      injectTraceContext(fields);
    });
    expect(lines[0]['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(fields['traceparent']).toBe(
      `00-${String(lines[0]['trace_id'])}-${String(lines[0]['span_id'])}-00`,
    );
  });

  it('leaves trace fields out when there is no span or correlation', () => {
    const { logger, lines } = capture();
    logger.info('idle');
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('correlationid');
  });

  it('redacts secrets', () => {
    const { logger, lines } = capture();
    logger.info(
      { req: { headers: { authorization: 'Bearer abc' } }, db: { password: 'hunter2' } },
      'request',
    );
    expect(JSON.stringify(lines[0])).not.toMatch(/Bearer abc|hunter2/);
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  });
});
