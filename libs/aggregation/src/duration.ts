const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The text form of a duration in a rule: a whole number and a unit, `500ms`, `5s`, `1m`, `2h`, `1d`. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$';

/** Milliseconds of a duration text (`5m` → 300000); throws RangeError on anything else. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match)
    throw new RangeError(`not a duration: ${JSON.stringify(text)} (expected e.g. 500ms, 5s, 1m, 2h)`);
  return Number(match[1]) * UNITS[match[2]];
}
