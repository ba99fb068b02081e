import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { runWithCorrelation } from './correlation';
import { loggerOptions, redactUrl } from './logger';
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

  it('writes JSON lines carrying the correlation id and the active trace and span ids', async () => {
    const { logger, lines } = capture();
    await trace.getTracer('spec').startActiveSpan('work', async (span) => {
      await runWithCorrelation('corr-42', async () => {
        await Promise.resolve();
        logger.info('handled');
      });
      span.end();
    });
    const [line] = lines;
    expect(line).toMatchObject({ app: 'test-app', level: 'info', msg: 'handled', correlationid: 'corr-42' });
    expect(line['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(line['span_id']).toMatch(/^[0-9a-f]{16}$/);
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
