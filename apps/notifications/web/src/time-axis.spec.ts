import { timeAxisRange, timeTickLabel } from './time-axis';

describe('timeAxisRange', () => {
  const t = Date.parse('2026-12-05T18:10:00Z') / 1000;

  it('gives a lone point a window either side: minutes, not years', () => {
    expect(timeAxisRange([t], 300)).toEqual([t - 300, t + 300]);
    expect(timeAxisRange([t], 60)).toEqual([t - 60, t + 60]);
  });

  it('keeps a few points off the edges by half a window', () => {
    expect(timeAxisRange([t, t + 60, t + 120], 60)).toEqual([t - 30, t + 150]);
  });

  it('shows the last two windows before any point', () => {
    expect(timeAxisRange([], 300, t)).toEqual([t - 600, t]);
  });
});

describe('timeTickLabel', () => {
  it('labels ticks with hour and minute, and seconds off the minute', () => {
    const at = new Date(2026, 11, 5, 19, 45, 0).getTime() / 1000;
    expect(timeTickLabel(at)).toBe('19:45');
    expect(timeTickLabel(at + 30)).toBe('19:45:30');
    expect(timeTickLabel(at - 45 * 60 + 5)).toBe('19:00:05');
  });
});
