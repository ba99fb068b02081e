import { percentile, progressLine, summary, tallyProgress } from './demo-stats';

const order = (id: string, status: string, seconds = 0) => ({
  id,
  status,
  created_at: '2026-12-05T12:00:00.000Z',
  updated_at: new Date(Date.parse('2026-12-05T12:00:00.000Z') + seconds * 1000).toISOString(),
});

describe('demo stats', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeUndefined();
  });

  it('tallies delivered, cancelled and in flight, and times created → delivered', () => {
    const orders = [
      order('a', 'delivered', 30),
      order('b', 'delivered', 40),
      order('c', 'cancelled', 2),
      order('d', 'preparing', 5),
      order('a', 'delivered', 30), // listed twice across pages: counted once
    ];
    const progress = tallyProgress(5, 1, orders);
    expect(progress).toEqual({
      placed: 5,
      refused: 1,
      inFlight: 2, // d, and one placed order not listed yet
      delivered: 2,
      cancelled: 1,
      p50: 30,
      p99: 40,
      max: 40,
    });
    expect(progressLine(progress, 12)).toBe(
      '[ 12 s] placed 5 · in flight 2 · delivered 2 · cancelled 1 · refused 1 · created→delivered p50 30.0 s p99 40.0 s',
    );
    expect(summary(progress, { rate: 5, duration: 60, drainedSeconds: 3 })).toContain(
      'created → delivered   p50 30.0 s   p99 40.0 s   max 40.0 s',
    );
  });

  it('shows a dash before anything is delivered', () => {
    expect(progressLine(tallyProgress(3, 0, []), 1)).toContain('p50 – p99 –');
  });
});
