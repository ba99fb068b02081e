import { parseDuration } from './duration';
import { sessionTakes, windowsFor } from './windows';

describe('windows', () => {
  it('puts an event in one tumbling window, [start, end)', () => {
    expect(windowsFor({ type: 'tumbling', sizeMs: 60_000 }, 120_000)).toEqual([
      { start: 120_000, end: 180_000 },
    ]);
    expect(windowsFor({ type: 'tumbling', sizeMs: 60_000 }, 179_999)).toEqual([
      { start: 120_000, end: 180_000 },
    ]);
    expect(windowsFor({ type: 'tumbling', sizeMs: 1_000 }, -1)).toEqual([{ start: -1_000, end: 0 }]);
  });

  it('puts an event in size/slide hopping windows, aligned to the epoch, oldest first', () => {
    const hop = { type: 'hopping', sizeMs: 5_000, slideMs: 1_000 } as const;
    expect(windowsFor(hop, 7_500).map((w) => [w.start, w.end])).toEqual([
      [3_000, 8_000],
      [4_000, 9_000],
      [5_000, 10_000],
      [6_000, 11_000],
      [7_000, 12_000],
    ]);
    expect(windowsFor(hop, 7_000)[0]).toEqual({ start: 3_000, end: 8_000 });
    expect(windowsFor({ type: 'hopping', sizeMs: 10, slideMs: 4 }, 9).map((w) => w.start)).toEqual([0, 4, 8]);
  });

  it('has one global window that never ends', () => {
    expect(windowsFor({ type: 'global' }, 123)).toEqual([{ start: 0, end: Infinity }]);
  });

  it('lets a session take events at most gap away, on either side', () => {
    const session = { start: 10_000, end: 15_000 }; // last event at 12 000, gap 3 000
    expect(sessionTakes(session, 15_000, 3_000)).toBe(true);
    expect(sessionTakes(session, 15_001, 3_000)).toBe(false);
    expect(sessionTakes(session, 7_000, 3_000)).toBe(true);
    expect(sessionTakes(session, 6_999, 3_000)).toBe(false);
  });

  it('reads durations', () => {
    expect(['500ms', '5s', '1m', '2h', '1d'].map(parseDuration)).toEqual([
      500, 5_000, 60_000, 7_200_000, 86_400_000,
    ]);
    expect(() => parseDuration('5 minutes')).toThrow(/not a duration/);
  });
});
