import type { PhaseSamples } from './e2e-protocol';
import { formatE2eSection, summarizePhase, systemCpu } from './e2e-report';

/** A phase of `orders` orders, every one finished, each with first frame and lifecycle latency `ms`. */
function samples(orders: number, ms: (i: number) => number, overrides: Partial<PhaseSamples> = {}) {
  const base: PhaseSamples = {
    firstFrame: Array.from({ length: orders }, (_, i) => ms(i)),
    postAnswer: Array.from({ length: orders }, () => 5),
    subscribe: Array.from({ length: orders }, () => 2),
    lifecycle: Array.from({ length: orders }, (_, i): [string, number, number] => [
      `e${i}`,
      1000,
      1000 + ms(i),
    ]),
    location: [],
    scheduled: orders,
    placed: orders,
    refused: 0,
    finished: orders,
    subscriptionErrors: 0,
    maxSendLagMs: 1,
  };
  return { ...base, ...overrides };
}

describe('bench:e2e report', () => {
  it('holds a rate whose orders all finished with both p99 under 100 ms', () => {
    const sut = summarizePhase(
      25,
      samples(200, (i) => 10 + (i % 50)),
      new Map(),
      '0.5',
    );
    expect(sut.firstFrame.p99).toBe(59);
    expect(sut.worstP99).toBe(59);
    expect(sut.held).toBe(true);
  });

  it('does not hold a rate when 2 % of the frames take 150 ms', () => {
    const sut = summarizePhase(
      25,
      samples(200, (i) => (i % 50 === 0 ? 150 : 20)),
      new Map(),
      '0.5',
    );
    expect(sut.lifecycle.p99).toBe(150);
    expect(sut.keptUp).toBe(true);
    expect(sut.held).toBe(false);
  });

  it('does not hold a rate with fast frames when an order never finished or a POST was refused', () => {
    const fast = (i: number) => 10 + (i % 5);
    expect(summarizePhase(50, samples(100, fast, { finished: 99 }), new Map(), '1').held).toBe(false);
    expect(summarizePhase(50, samples(100, fast, { refused: 1, placed: 99 }), new Map(), '1').held).toBe(
      false,
    );
  });

  it('splits each lifecycle event at its orders stream entry, skipping events it has no entry for', () => {
    const streamed = new Map([
      ['e0', 1004],
      ['e1', 1006],
    ]);
    const sut = summarizePhase(
      25,
      samples(3, () => 30),
      streamed,
      '0.5',
    );
    expect(sut.stampToStream).toMatchObject({ count: 2, p50: 4, max: 6 });
    expect(sut.streamToFrame).toMatchObject({ count: 2, p50: 24, max: 26 });
  });

  it('reports the highest rate held and the CPU ceiling of the machine', () => {
    const held = summarizePhase(
      25,
      samples(100, () => 20),
      new Map(),
      '0.5',
    );
    held.cpuMsPerOrder = { load: 3, postgresql: 12, notifications: 8 };
    const over = summarizePhase(
      50,
      samples(100, () => 300),
      new Map(),
      '0.9',
    );
    expect(systemCpu(held.cpuMsPerOrder)).toBe(20);
    const text = formatE2eSection({
      started: new Date('2026-12-05T20:00:00Z'),
      results: [held, over],
      seconds: 30,
      speed: 10,
      workers: 2,
      connections: 50,
      notRun: [100],
      settleSeconds: 120,
      node: 'v24',
      cpus: 2,
      loadAtEnd: '1.0',
    });
    expect(text).toContain('Highest rate held with p99 < 100 ms: **25 orders/s**');
    expect(text).toContain('busy at about 100 orders/s');
    expect(text).toContain('Not run: 100 orders/s');
    expect(text).toContain('postgresql 12.0, notifications 8.0');
  });
});
