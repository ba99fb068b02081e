import { fieldMap } from '@choreo/contracts';
import { useSpecServers, waitFor } from '@choreo/testing';
import { currentCorrelationId } from '@choreo/observability';
import { context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { StreamConsumer } from './stream-consumer';
import { StreamPublisher } from './stream-publisher';
import { orderEvent } from './test-fixtures/events';

// A real tracer provider (AsyncLocalStorage context, W3C propagator), as an app's startTracing sets up.
const provider = new node.NodeTracerProvider();
provider.register();

const servers = useSpecServers({ redis: true });
let redis: Redis;
beforeAll(() => {
  redis = servers.redisClient;
});
afterAll(() => provider.shutdown());

describe('trace context through a stream', () => {
  it('carries the publishing span as traceparent and runs the handler inside that trace', async () => {
    const stream = 'orders-traced';
    const publisher = new StreamPublisher(redis);
    const tracer = trace.getTracer('test');
    let traceId = '';
    const entryId = await tracer.startActiveSpan('POST /orders', async (span) => {
      traceId = span.spanContext().traceId;
      try {
        return await publisher.publish(stream, { ...orderEvent('order.created'), correlationid: 'corr-77' });
      } finally {
        span.end();
      }
    });
    const [[, fields]] = await redis.xrange(stream, entryId, entryId);
    expect(fieldMap(fields)['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));

    const seenTraceIds: (string | undefined)[] = [];
    const seenCorrelationIds: (string | undefined)[] = [];
    const consumer = new StreamConsumer(
      {
        redisUrl: servers.redis.url,
        group: 'notifications',
        streams: [stream],
        blockMs: 200,
        metricsIntervalMs: 0,
        registry: new Registry(),
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      },
      () => async () => {
        await new Promise((resolve) => setImmediate(resolve));
        // Still inside the extracted context after an await: AsyncLocalStorage carries it.
        seenTraceIds.push(trace.getSpanContext(context.active())?.traceId);
        // …and so does the event's correlation id, which every log line of the handler carries.
        seenCorrelationIds.push(currentCorrelationId());
      },
    );
    await consumer.start();
    try {
      await waitFor('handled', async () => seenTraceIds.length === 1, 10_000);
    } finally {
      await consumer.stop();
    }
    expect(seenTraceIds).toEqual([traceId]);
    expect(seenCorrelationIds).toEqual(['corr-77']);
  });
});
