import type { AggregateResultData } from '@choreo/contracts';
import type { CompiledRule } from './compiled-rule';
import { JsonScalar, measureValues } from './measures';
import type { WindowRow } from './window-engine';

/** A window's result as the `aggregate.*` events, REST and the output entity carry it. */
export type WindowResult = AggregateResultData;

/** The result of one window. */
export function windowResult(rule: CompiledRule, row: WindowRow): WindowResult {
  const key = JSON.parse(row.key) as JsonScalar[];
  return {
    rule: rule.name,
    key,
    group: Object.fromEntries(rule.groupBy.map((field, i) => [field, key[i] ?? null])),
    window_start: new Date(row.start).toISOString(),
    window_end: Number.isFinite(row.end) ? new Date(row.end).toISOString() : null,
    values: measureValues(rule, row.state),
    events: row.state.n,
    version: row.version,
    final: row.final,
  };
}

/**
 * The watermark of a source: the newest event time seen, never going back; once the source has sent
 * nothing for `idleMs` of wall-clock time it follows the clock (now − idleMs), so windows close on an
 * idle stream.
 */
export function nextWatermark(
  current: number,
  observed: { maxEventTime?: number; lastEventAt?: number; now: number; idleMs: number },
): number {
  let watermark = Math.max(current, observed.maxEventTime ?? -Infinity);
  const quiet = observed.lastEventAt === undefined ? Infinity : observed.now - observed.lastEventAt;
  if (observed.idleMs > 0 && quiet >= observed.idleMs)
    watermark = Math.max(watermark, observed.now - observed.idleMs);
  return watermark;
}
