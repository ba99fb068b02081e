import type { CompiledRule } from './compiled-rule';
import type { SourceEvent } from './contributions';
import { WindowResult, windowResult } from './results';
import {
  LateContribution,
  RowState,
  SpanState,
  WindowRow,
  applyContributions,
  closeDue,
  planContributions,
} from './window-engine';

/**
 * The window engine with its state in memory, deduplicating by event id: the reference the unit specs
 * check, and what the aggregator app does with PostgreSQL (same phases, state in tables).
 */
export class MemoryAggregator {
  private readonly state = new Map<
    string,
    { windows: Map<string, WindowRow>; rows: Map<string, RowState>; spans: Map<string, SpanState> }
  >();
  private readonly watermarks = new Map<string, number>();
  private readonly seen = new Set<string>();
  readonly late: LateContribution[] = [];
  readonly emitted: WindowResult[] = [];

  constructor(private readonly rules: readonly CompiledRule[]) {
    for (const rule of rules)
      this.state.set(rule.name, { windows: new Map(), rows: new Map(), spans: new Map() });
  }

  /** One batch from one source; redelivered ids change nothing. */
  process(source: string, batch: readonly SourceEvent[]): void {
    const fresh: SourceEvent[] = [];
    for (const event of batch) {
      if (this.seen.has(event.id)) continue;
      this.seen.add(event.id);
      fresh.push(event);
    }
    if (fresh.length === 0) return;
    const watermark = this.watermark(source);
    for (const rule of this.rules.filter((r) => r.source === source)) {
      const { windows, rows, spans } = this.stateOf(rule.name);
      const plan = planContributions(rule, fresh, rows, spans);
      const applied = applyContributions(rule, plan.items, windows, watermark);
      this.late.push(...applied.late);
      if (rule.emit === 'updates') {
        for (const id of applied.touched) this.emitted.push(windowResult(rule, windows.get(id) as WindowRow));
      }
    }
    this.advance(source, Math.max(...fresh.map((e) => e.time)));
  }

  /** Moves a source's watermark (as an idle source does) and closes what is due. */
  advance(source: string, watermark: number): void {
    const next = Math.max(this.watermark(source), watermark);
    this.watermarks.set(source, next);
    for (const rule of this.rules.filter((r) => r.source === source)) {
      for (const row of closeDue(rule, this.stateOf(rule.name).windows.values(), next)) {
        this.emitted.push(windowResult(rule, row));
      }
    }
  }

  private stateOf(rule: string) {
    const state = this.state.get(rule);
    if (!state) throw new Error(`no rule ${rule}`);
    return state;
  }

  watermark(source: string): number {
    return this.watermarks.get(source) ?? -Infinity;
  }

  /** Every window of a rule with its result, ordered by key then start. */
  results(rule: string): WindowResult[] {
    const definition = this.rules.find((r) => r.name === rule);
    if (!definition) throw new Error(`no rule ${rule}`);
    return [...this.stateOf(rule).windows.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start))
      .map((row) => windowResult(definition, row));
  }
}
