import type { AggregateResultData } from '@choreo/contracts';

/** A rule's windows as the dashboard holds them: the highest version of each (key, window start). */
export type RuleWindows = Map<string, AggregateResultData>;

function windowId(result: Pick<AggregateResultData, 'key' | 'window_start'>): string {
  return `${JSON.stringify(result.key)}@${result.window_start}`;
}

function isResult(value: unknown): value is AggregateResultData {
  const v = value as Partial<AggregateResultData> | null;
  return (
    typeof v?.rule === 'string' &&
    Array.isArray(v.key) &&
    typeof v.window_start === 'string' &&
    typeof v.version === 'number' &&
    typeof v.values === 'object' &&
    v.values !== null
  );
}

/**
 * Keeps a window's result unless the dashboard already holds a newer version of it: a slow
 * connection may get only the latest value of a window, and a snapshot may repeat one.
 */
export function applyResult(windows: RuleWindows, value: unknown): RuleWindows {
  if (!isResult(value)) return windows;
  const id = windowId(value);
  const held = windows.get(id);
  if (held && held.version >= value.version) return windows;
  const next = new Map(windows);
  next.set(id, value);
  return next;
}

/** An `aggregates:<rule>` snapshot: `{ values: { <window>: result } }`, the latest of every window. */
export function applyAggregateSnapshot(windows: RuleWindows, data: unknown): RuleWindows {
  const values = (data as { values?: Record<string, unknown> } | null)?.values;
  if (!values || typeof values !== 'object') return windows;
  return Object.values(values).reduce<RuleWindows>((acc, value) => applyResult(acc, value), windows);
}

/** A measure as a number: counts and averages are numbers, sums exact decimal text. */
export function measure(result: AggregateResultData, name: string): number | undefined {
  const value = result.values[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** One measure over time (windows of the empty key, by start): x in Unix seconds, for uPlot. */
export function series(windows: RuleWindows, name: string, limit = 60): [number[], (number | null)[]] {
  const points = [...windows.values()]
    .filter((w) => w.key.length === 0)
    .map((w) => [Date.parse(w.window_start) / 1000, measure(w, name) ?? null] as const)
    .sort((a, b) => a[0] - b[0])
    .slice(-limit);
  return [points.map((p) => p[0]), points.map((p) => p[1])];
}

/** One measure per group (e.g. products per category), largest first. */
export function byGroup(windows: RuleWindows, name: string): { label: string; value: number }[] {
  return [...windows.values()]
    .map((w) => ({ label: w.key.map((k) => String(k ?? '—')).join(' · ') || '—', value: measure(w, name) }))
    .filter((row): row is { label: string; value: number } => row.value !== undefined && row.value > 0)
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}
