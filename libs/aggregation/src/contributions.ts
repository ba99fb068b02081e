import type { CompiledRule } from './compiled-rule';
import type { Contribution, JsonScalar } from './measures';
import { compareValues } from './measures';
import { parseDecimal } from './decimal';

/** The parts of an event the engine reads (the envelope with `time` already in milliseconds). */
export interface SourceEvent {
  id: string;
  type: string;
  /** Event time, epoch milliseconds. */
  time: number;
  subject?: string;
  data: unknown;
}

/** Why an event cannot be aggregated by a rule; retrying cannot fix it, so it is dead-lettered. */
export class RuleEventError extends Error {
  constructor(
    readonly rule: string,
    readonly reason: string,
  ) {
    super(`rule ${rule}: ${reason}`);
    this.name = 'RuleEventError';
  }
}

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path, or undefined. */
export function readPath(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

function scalarAt(rule: CompiledRule, record: JsonRecord, path: string, role: string): JsonScalar {
  const value = readPath(record, path);
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new RuleEventError(
    rule.name,
    `${role} ${path} must be a string, number or boolean, got ${JSON.stringify(value)}`,
  );
}

function holds(rule: CompiledRule, record: JsonRecord): boolean {
  return rule.where.every((condition) => {
    const value = readPath(record, condition.field);
    const op = condition.op ?? 'eq';
    if (op === 'exists') return value !== undefined && value !== null;
    const expected = condition.value;
    if (op === 'in') return Array.isArray(expected) && expected.some((e) => e === value);
    if (op === 'eq') return value === expected;
    if (op === 'ne') return value !== expected;
    if (value === undefined || value === null || Array.isArray(expected) || expected === undefined)
      return false;
    const c = compareValues(value as JsonScalar, expected);
    return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
  });
}

/**
 * What a record contributes to a rule: null when the `where` conditions leave it out. Throws
 * RuleEventError when a measured or grouped field holds something the measure cannot take.
 */
export function contributionOf(
  rule: CompiledRule,
  id: string,
  time: number,
  record: unknown,
): Contribution | null {
  if (!isRecord(record)) throw new RuleEventError(rule.name, 'the record (event data) must be an object');
  if (!holds(rule, record)) return null;
  const key = JSON.stringify(rule.groupBy.map((path) => scalarAt(rule, record, path, 'groupBy field')));
  const fields: Record<string, JsonScalar> = {};
  for (const [name, measure] of rule.measures) {
    if (measure.field === undefined) continue;
    const value = scalarAt(rule, record, measure.field, `measure ${name}: field`);
    if ((measure.fn === 'sum' || measure.fn === 'avg') && value !== null && !parseDecimal(value)) {
      throw new RuleEventError(
        rule.name,
        `measure ${name}: ${measure.field} is not a number: ${JSON.stringify(value)}`,
      );
    }
    fields[measure.field] = value;
  }
  return { id, time, key, fields };
}

/** A row change of a `cdc.*` stream, as the cdc-relay writes it. */
interface RowChange {
  operation: 'inserted' | 'updated' | 'deleted' | 'truncated';
  after: JsonRecord | null;
  position: string;
}

/** Reads a row change; throws RuleEventError for one that is not shaped like the cdc-relay's. */
export function rowChangeOf(rule: CompiledRule, event: SourceEvent): RowChange {
  const operation = event.type.slice(event.type.lastIndexOf('.') + 1);
  if (
    operation !== 'inserted' &&
    operation !== 'updated' &&
    operation !== 'deleted' &&
    operation !== 'truncated'
  ) {
    throw new RuleEventError(
      rule.name,
      `${event.type} is not a row change (inserted, updated, deleted, truncated)`,
    );
  }
  if (!isRecord(event.data)) throw new RuleEventError(rule.name, 'a row change needs data to be an object');
  const after = event.data['after'];
  if (operation === 'inserted' || operation === 'updated') {
    if (!isRecord(after)) throw new RuleEventError(rule.name, `${operation}: data.after must be the row`);
    if (event.subject === undefined)
      throw new RuleEventError(rule.name, 'a row change needs its subject (the row key)');
  }
  if (operation === 'deleted' && event.subject === undefined) {
    throw new RuleEventError(rule.name, 'a row change needs its subject (the row key)');
  }
  const position = event.data['position'];
  return {
    operation,
    after: isRecord(after) ? after : null,
    // Relay positions are fixed-width text, so text order is commit order; ids sort the same way.
    position: typeof position === 'string' ? position : event.id,
  };
}

/** Checks an event against a rule without any state; throws RuleEventError naming what is wrong. */
export function validateEvent(rule: CompiledRule, event: SourceEvent): void {
  if (!Number.isFinite(event.time)) throw new RuleEventError(rule.name, 'the event time is not a timestamp');
  if (rule.retracts) {
    const change = rowChangeOf(rule, event);
    if (change.after) contributionOf(rule, event.id, event.time, change.after);
  } else if (rule.span) {
    if (event.subject === undefined) throw new RuleEventError(rule.name, 'a span event needs its subject');
    if (event.type === rule.span.to) contributionOf(rule, event.id, event.time, spanRecord(event.data, 0));
  } else {
    contributionOf(rule, event.id, event.time, event.data);
  }
}

/** The record of a completed span: the `to` event's data plus its duration. */
export function spanRecord(data: unknown, durationMs: number): JsonRecord {
  return { ...(isRecord(data) ? data : {}), duration_ms: durationMs, duration_s: durationMs / 1000 };
}
