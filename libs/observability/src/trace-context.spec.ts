import { trace } from '@opentelemetry/api';
import { ensureTraceContext, extractTraceContext } from './trace-context';
import { startTracing } from './tracing';

describe('ensureTraceContext', () => {
  beforeAll(() => startTracing('test', {})); // the W3C propagator, as every app installs it

  it('continues a valid caller trace', () => {
    const ctx = ensureTraceContext({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(trace.getSpanContext(ctx)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('starts a new trace with distinct random ids, across refills of its id pool', () => {
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const span = trace.getSpanContext(ensureTraceContext({ traceparent: 'garbage' }));
      expect(span?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span?.spanId).toMatch(/^[0-9a-f]{16}$/);
      traceIds.add(span?.traceId ?? '');
      spanIds.add(span?.spanId ?? '');
    }
    expect(traceIds.size).toBe(1000);
    expect(spanIds.size).toBe(1000);
  });
});

describe('extractTraceContext', () => {
  beforeAll(() => startTracing('test', {}));
  const first = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const last = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('reads a stream entry field list as a field map would (last value wins, a trailing name is ignored)', () => {
    const entry = ['traceparent', first, 'type', 'order.created', 'traceparent', last, 'tracestate'];
    const fromList = trace.getSpanContext(extractTraceContext(entry));
    const fromMap = trace.getSpanContext(extractTraceContext({ traceparent: last, type: 'order.created' }));
    expect(fromList?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(fromList).toEqual(fromMap);
    expect(trace.getSpanContext(extractTraceContext(['type', 'order.created']))).toBeUndefined();
  });
});
