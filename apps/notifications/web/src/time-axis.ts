/**
 * The x range (Unix seconds) of a chart of windows `windowS` long, from its x values (sorted): half a
 * window of margin around the points, a whole window either side of a lone point.
 *
 * Why from the data and not from the range uPlot proposes: uPlot widens a lone point on a time scale
 * to `86400 / ms` units, which with seconds (`ms: 1e-3`) is 1000 days, so one point got an axis of
 * years; and it puts the first and last points on the chart's edges.
 */
export function timeAxisRange(
  xs: ArrayLike<number>,
  windowS: number,
  nowS = Date.now() / 1000,
): [number, number] {
  if (xs.length === 0) return [nowS - 2 * windowS, nowS];
  const [first, last] = [xs[0], xs[xs.length - 1]];
  const margin = last > first ? windowS / 2 : windowS;
  return [first - margin, last + margin];
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A tick label in local time: `19:45`, or `19:45:30` off the minute. One line, always with the hour and
 * minute (uPlot's default labels sub-minute ticks `:30`, with the minute on a second line a small axis cuts off).
 */
export function timeTickLabel(seconds: number): string {
  const at = new Date(seconds * 1000);
  const hm = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  return at.getSeconds() === 0 ? hm : `${hm}:${pad2(at.getSeconds())}`;
}
