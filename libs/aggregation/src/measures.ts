import type { CompiledRule } from './compiled-rule';
import { Decimal, addDecimal, decimalText, divideDecimal, parseDecimal, ZERO } from './decimal';

/** A JSON value as records and results carry it. */
export type JsonScalar = string | number | boolean | null;

/** What one event (or row) contributes: its identity, event time, group key and the fields measured. */
export interface Contribution {
  id: string;
  /** Event time, epoch milliseconds. */
  time: number;
  /** The group-by values as a JSON array text (`["books"]`, `[]`). */
  key: string;
  /** The measured fields' values, by field path; null when absent. */
  fields: Record<string, JsonScalar>;
}

/** Per-measure state, JSON so it is stored as it is (jsonb). */
export type MeasureState =
  /** count: non-null values (or events, without a field). */
  | { c: number }
  /** sum, avg: non-null values and their exact sum. */
  | { c: number; s: string }
  /** min, max, count_distinct: a multiset (value as JSON text → multiplicity), so a retraction can undo. */
  | { v: Record<string, number> }
  /** string_agg: [time, id, text] sorted by time then id: the deterministic order. */
  | { i: [number, string, string][] };

/** A window's accumulated state: contributions counted (+1/−1) and each measure's state. */
export interface AccumulatorState {
  n: number;
  m: Record<string, MeasureState>;
}

/** The values a window reports, by measure name. */
export type MeasureValues = Record<string, JsonScalar>;

export function emptyState(rule: CompiledRule): AccumulatorState {
  const m: Record<string, MeasureState> = {};
  for (const [name, measure] of rule.measures) {
    switch (measure.fn) {
      case 'count':
        m[name] = { c: 0 };
        break;
      case 'sum':
      case 'avg':
        m[name] = { c: 0, s: '0' };
        break;
      case 'string_agg':
        m[name] = { i: [] };
        break;
      default:
        m[name] = { v: {} };
    }
  }
  return { n: 0, m };
}

/** Adds (sign 1) or retracts (sign −1) one contribution, in place. */
export function accumulate(
  rule: CompiledRule,
  state: AccumulatorState,
  contribution: Contribution,
  sign: 1 | -1,
): void {
  state.n += sign;
  for (const [name, measure] of rule.measures) {
    const value = measure.field === undefined ? true : contribution.fields[measure.field];
    if (value === null || value === undefined) continue;
    const current = state.m[name];
    if ('s' in current) {
      current.c += sign;
      current.s = decimalText(addDecimal(parseDecimal(current.s) ?? ZERO, numeric(value), sign));
    } else if ('c' in current) {
      current.c += sign;
    } else if ('v' in current) {
      const text = JSON.stringify(value);
      const count = (current.v[text] ?? 0) + sign;
      if (count === 0) delete current.v[text];
      else current.v[text] = count;
    } else if (sign === 1) {
      insertSorted(current.i, [contribution.time, contribution.id, String(value)]);
    } else {
      const at = current.i.findIndex((item) => item[1] === contribution.id);
      if (at >= 0) current.i.splice(at, 1);
    }
  }
}

/** `into` absorbs `from` (sessions that merge), in place. */
export function mergeState(rule: CompiledRule, into: AccumulatorState, from: AccumulatorState): void {
  into.n += from.n;
  for (const [name] of rule.measures) {
    const a = into.m[name];
    const b = from.m[name];
    if ('s' in a && 's' in b) {
      a.c += b.c;
      a.s = decimalText(addDecimal(parseDecimal(a.s) ?? ZERO, parseDecimal(b.s) ?? ZERO));
    } else if ('c' in a && 'c' in b) a.c += b.c;
    else if ('v' in a && 'v' in b) {
      for (const [text, count] of Object.entries(b.v)) a.v[text] = (a.v[text] ?? 0) + count;
    } else if ('i' in a && 'i' in b) for (const item of b.i) insertSorted(a.i, item);
  }
}

/** The reported values of a window: counts as numbers, sums as exact decimal text, avg as a number. */
export function measureValues(rule: CompiledRule, state: AccumulatorState): MeasureValues {
  const values: MeasureValues = {};
  for (const [name, measure] of rule.measures) {
    const current = state.m[name];
    switch (measure.fn) {
      case 'count':
        values[name] = 'c' in current ? current.c : 0;
        break;
      case 'sum':
        values[name] = 's' in current && current.c > 0 ? current.s : null;
        break;
      case 'avg':
        values[name] = 's' in current && current.c > 0 ? divideDecimal(numeric(current.s), current.c) : null;
        break;
      case 'count_distinct':
        values[name] = 'v' in current ? Object.keys(current.v).length : 0;
        break;
      case 'min':
      case 'max':
        values[name] = 'v' in current ? extreme(Object.keys(current.v), measure.fn) : null;
        break;
      case 'string_agg':
        values[name] =
          'i' in current && current.i.length > 0
            ? current.i.map((item) => item[2]).join(measure.separator ?? ',')
            : null;
        break;
    }
  }
  return values;
}

/** Why a value cannot be measured; names the field. */
export class MeasureValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MeasureValueError';
  }
}

function numeric(value: JsonScalar | string): Decimal {
  const decimal = parseDecimal(value);
  if (!decimal) throw new MeasureValueError(`not a number: ${JSON.stringify(value)}`);
  return decimal;
}

function insertSorted(items: [number, string, string][], item: [number, string, string]): void {
  let at = items.length;
  while (
    at > 0 &&
    (items[at - 1][0] > item[0] || (items[at - 1][0] === item[0] && items[at - 1][1] > item[1]))
  ) {
    at -= 1;
  }
  items.splice(at, 0, item);
}

/** Numbers (and numeric text) compare as numbers, other text as text (RFC 3339 times sort this way). */
export function compareValues(a: JsonScalar, b: JsonScalar): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x && y) {
    const scale = Math.max(x.scale, y.scale);
    const d = x.units * 10n ** BigInt(scale - x.scale) - y.units * 10n ** BigInt(scale - y.scale);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

function extreme(texts: string[], fn: 'min' | 'max'): JsonScalar {
  if (texts.length === 0) return null;
  const values = texts.map((t) => JSON.parse(t) as JsonScalar);
  return values.reduce((best, v) => {
    const c = compareValues(v, best);
    return (fn === 'min' ? c < 0 : c > 0) ? v : best;
  });
}
