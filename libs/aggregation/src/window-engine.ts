import type { CompiledRule } from './compiled-rule';
import { contributionOf, rowChangeOf, SourceEvent, spanRecord } from './contributions';
import { AccumulatorState, Contribution, accumulate, emptyState, mergeState } from './measures';
import { sessionTakes, windowsFor } from './windows';

/** One window of one key, as stored: `[start, end)`, its state, its version and whether it is final. */
export interface WindowRow {
  key: string;
  start: number;
  end: number;
  state: AccumulatorState;
  /** Goes up by one with every batch that changes the window, and when it closes. */
  version: number;
  final: boolean;
}

/** A window's identity within its rule. */
export function windowId(key: string, start: number): string {
  return `${start}|${key}`;
}

/** What a row of a `cdc.*` source currently contributes (null: deleted or left out by `where`). */
export interface RowState {
  position: string;
  contribution: Contribution | null;
}

/** The two ends of a span, as far as they have arrived. */
export interface SpanState {
  from?: { id: string; time: number };
  to?: { id: string; time: number; data: unknown };
  done?: boolean;
}

export interface SignedContribution {
  sign: 1 | -1;
  contribution: Contribution;
  /** The event that caused it (for a retraction, the row change that retracts). */
  eventId: string;
}

/** A contribution that came after its window closed (watermark past end + allowed lateness). */
export interface LateContribution extends SignedContribution {
  start: number;
  end: number;
  watermark: number;
}

/** What a rule did with an event. */
export type EventOutcome = 'applied' | 'filtered' | 'stale' | 'waiting' | 'late';

export interface Plan {
  items: SignedContribution[];
  outcomes: Map<string, EventOutcome>;
  changedRows: Set<string>;
  changedSpans: Set<string>;
}

/**
 * Phase 1: turns a batch of a rule's events into signed contributions, in place on the row and span
 * states the caller loaded (for `cdc.*` rules the batch's rows, all rows when it holds a truncate; for
 * span rules the batch's subjects). Events are taken in event-time order (then id), so the result does
 * not depend on delivery order.
 */
export function planContributions(
  rule: CompiledRule,
  events: readonly SourceEvent[],
  rows: Map<string, RowState>,
  spans: Map<string, SpanState>,
): Plan {
  const plan: Plan = { items: [], outcomes: new Map(), changedRows: new Set(), changedSpans: new Set() };
  const ordered = [...events].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const event of ordered) {
    if (!rule.types.has(event.type)) plan.outcomes.set(event.id, 'filtered');
    else if (rule.retracts) planRowChange(rule, event, rows, plan);
    else if (rule.span) planSpan(rule, rule.span, event, spans, plan);
    else {
      const contribution = contributionOf(rule, event.id, event.time, event.data);
      if (contribution) plan.items.push({ sign: 1, contribution, eventId: event.id });
      plan.outcomes.set(event.id, contribution ? 'applied' : 'filtered');
    }
  }
  return plan;
}

function planRowChange(
  rule: CompiledRule,
  event: SourceEvent,
  rows: Map<string, RowState>,
  plan: Plan,
): void {
  const change = rowChangeOf(rule, event);
  const retract = (key: string, row: RowState | undefined) => {
    if (row?.contribution) plan.items.push({ sign: -1, contribution: row.contribution, eventId: event.id });
  };
  if (change.operation === 'truncated') {
    for (const [key, row] of rows) {
      if (row.position >= change.position) continue;
      retract(key, row);
      rows.set(key, { position: change.position, contribution: null });
      plan.changedRows.add(key);
    }
    plan.outcomes.set(event.id, 'applied');
    return;
  }
  const key = event.subject as string;
  const previous = rows.get(key);
  // A change older than the one the row already reflects was superseded: applying it would undo a newer one.
  if (previous && previous.position >= change.position) {
    plan.outcomes.set(event.id, 'stale');
    return;
  }
  retract(key, previous);
  const contribution = change.after ? contributionOf(rule, event.id, event.time, change.after) : null;
  if (contribution) plan.items.push({ sign: 1, contribution, eventId: event.id });
  rows.set(key, { position: change.position, contribution });
  plan.changedRows.add(key);
  plan.outcomes.set(event.id, contribution || previous?.contribution ? 'applied' : 'filtered');
}

function planSpan(
  rule: CompiledRule,
  span: { from: string; to: string },
  event: SourceEvent,
  spans: Map<string, SpanState>,
  plan: Plan,
): void {
  const subject = event.subject as string;
  const state = spans.get(subject) ?? {};
  if (state.done) {
    plan.outcomes.set(event.id, 'stale');
    return;
  }
  if (event.type === span.from && !state.from) state.from = { id: event.id, time: event.time };
  else if (event.type === span.to && !state.to)
    state.to = { id: event.id, time: event.time, data: event.data };
  else {
    plan.outcomes.set(event.id, 'stale');
    return;
  }
  spans.set(subject, state);
  plan.changedSpans.add(subject);
  if (!state.from || !state.to) {
    plan.outcomes.set(event.id, 'waiting');
    return;
  }
  state.done = true;
  const record = spanRecord(state.to.data, state.to.time - state.from.time);
  const contribution = contributionOf(rule, state.to.id, state.to.time, record);
  if (contribution) plan.items.push({ sign: 1, contribution, eventId: event.id });
  plan.outcomes.set(event.id, contribution ? 'applied' : 'filtered');
}

/** Phase 2: the fixed windows the contributions touch (to load them), `{ key, start }` each. */
export function windowsTouched(
  rule: CompiledRule,
  items: readonly SignedContribution[],
): { key: string; start: number }[] {
  if (rule.window.type === 'session') return [];
  const seen = new Map<string, { key: string; start: number }>();
  for (const { contribution } of items) {
    for (const window of windowsFor(rule.window, contribution.time)) {
      seen.set(windowId(contribution.key, window.start), { key: contribution.key, start: window.start });
    }
  }
  return [...seen.values()];
}

/** Whether a window is past its allowed lateness: final, and anything for it now is late. */
export function isDue(rule: CompiledRule, end: number, watermark: number): boolean {
  return end + rule.latenessMs <= watermark;
}

export interface Applied {
  /** Windows changed by the batch (version bumped once each). */
  touched: Set<string>;
  /** Sessions merged into another (delete them). */
  removed: Set<string>;
  late: LateContribution[];
  /** Events with at least one contribution counted (an event whose every contribution came late is not). */
  counted: Set<string>;
}

/**
 * Phase 3: applies the contributions to the windows the caller loaded (every window windowsTouched
 * named, or for session rules every session of the batch's keys), in place. `watermark` is the
 * source's watermark before the batch: a contribution to a window already due is late, reported and
 * not counted.
 */
export function applyContributions(
  rule: CompiledRule,
  items: readonly SignedContribution[],
  windows: Map<string, WindowRow>,
  watermark: number,
): Applied {
  const applied: Applied = { touched: new Set(), removed: new Set(), late: [], counted: new Set() };
  const versionBefore = new Map<string, number>();
  const touch = (id: string, row: WindowRow) => {
    if (!versionBefore.has(id)) versionBefore.set(id, row.version);
    applied.touched.add(id);
  };
  for (const item of items) {
    const { contribution } = item;
    if (rule.window.type === 'session') {
      applySession(rule, rule.window.gapMs, item, windows, watermark, applied, touch);
      continue;
    }
    for (const bounds of windowsFor(rule.window, contribution.time)) {
      const id = windowId(contribution.key, bounds.start);
      const row = windows.get(id);
      if (row?.final || isDue(rule, bounds.end, watermark)) {
        applied.late.push({ ...item, ...bounds, watermark });
        continue;
      }
      const target = row ?? {
        key: contribution.key,
        ...bounds,
        state: emptyState(rule),
        version: 0,
        final: false,
      };
      windows.set(id, target);
      accumulate(rule, target.state, contribution, item.sign);
      applied.counted.add(item.eventId);
      touch(id, target);
    }
  }
  for (const id of applied.touched) {
    const row = windows.get(id);
    if (row) row.version = (versionBefore.get(id) ?? row.version) + 1;
  }
  return applied;
}

function applySession(
  rule: CompiledRule,
  gapMs: number,
  item: SignedContribution,
  windows: Map<string, WindowRow>,
  watermark: number,
  applied: Applied,
  touch: (id: string, row: WindowRow) => void,
): void {
  const { contribution } = item;
  const proto = { start: contribution.time, end: contribution.time + gapMs };
  const overlapping = [...windows.entries()].filter(
    ([, row]) => row.key === contribution.key && sessionTakes(row, contribution.time, gapMs),
  );
  if (isDue(rule, proto.end, watermark) || overlapping.some(([, row]) => row.final)) {
    applied.late.push({ ...item, ...proto, watermark });
    return;
  }
  const merged: WindowRow = {
    key: contribution.key,
    ...proto,
    state: emptyState(rule),
    version: 0,
    final: false,
  };
  for (const [id, row] of overlapping) {
    merged.start = Math.min(merged.start, row.start);
    merged.end = Math.max(merged.end, row.end);
    mergeState(rule, merged.state, row.state);
    merged.version = Math.max(merged.version, row.version);
    windows.delete(id);
    applied.touched.delete(id);
    applied.removed.add(id);
  }
  accumulate(rule, merged.state, contribution, item.sign);
  applied.counted.add(item.eventId);
  const id = windowId(contribution.key, merged.start);
  applied.removed.delete(id);
  windows.set(id, merged);
  touch(id, merged);
}

/** Phase 4: marks the open windows that are due final, bumping their versions; returns them. */
export function closeDue(rule: CompiledRule, windows: Iterable<WindowRow>, watermark: number): WindowRow[] {
  const closed: WindowRow[] = [];
  for (const row of windows) {
    if (row.final || !isDue(rule, row.end, watermark)) continue;
    row.final = true;
    row.version += 1;
    closed.push(row);
  }
  return closed;
}
