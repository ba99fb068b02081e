import { Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram', () => {
  it("renders the same exposition text as prom-client's Histogram for the same observations", async () => {
    const buckets = [0.01, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const sut = new LatencyHistogram('handler_seconds', 'latency', buckets, ours);
    const reference = new Histogram({
      name: 'handler_seconds',
      help: 'latency',
      labelNames: ['stream', 'type'],
      buckets,
      registers: [theirs],
    });
    const observations: [Record<string, string>, number][] = [
      [{ stream: 'orders', type: 'order.created' }, 0.005],
      [{ stream: 'orders', type: 'order.created' }, 0.01],
      [{ stream: 'orders', type: 'order.created' }, 0.5],
      [{ stream: 'orders', type: 'order.created' }, 7],
      [{ stream: 'couriers', type: 'courier.location' }, 0.05],
    ];
    for (const [labels, seconds] of observations) {
      sut.labels(labels).observe(seconds);
      reference.observe(labels, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
