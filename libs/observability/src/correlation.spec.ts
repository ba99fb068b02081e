import { setTimeout as delay } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import { correlationIdOf, currentCorrelationId, runWithCorrelation, withCorrelation } from './correlation';

// No startTracing here: the correlation id must follow async work in specs, tools and with
// OTEL_SDK_DISABLED as well.
describe('correlation', () => {
  it('follows async work, apart for concurrent runs', async () => {
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        runWithCorrelation(id, async () => {
          await delay(5);
          await Promise.resolve();
          return currentCorrelationId();
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(currentCorrelationId()).toBeUndefined();
  });

  it('rides along in a context built from another one', () => {
    const ctx = withCorrelation('req-1', context.active());
    expect(context.with(ctx, currentCorrelationId)).toBe('req-1');
    expect(withCorrelation(undefined, ctx)).toBe(ctx);
  });

  it('keeps a well-formed caller id and replaces anything else', () => {
    expect(correlationIdOf('abc-123:x.y')).toBe('abc-123:x.y');
    expect(correlationIdOf('no spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationIdOf(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
