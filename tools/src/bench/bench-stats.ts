/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A rate or count rounded and grouped for a table: 12,345. */
export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * `--help` / `-h` for a bench whose settings come from the environment: prints `usage` and exits
 * before anything is started. Call it first thing, at module level.
 */
export function exitOnHelp(usage: string): void {
  if (!process.argv.includes('--help') && !process.argv.includes('-h')) return;
  process.stdout.write(usage.trimStart());
  process.exit(0);
}
