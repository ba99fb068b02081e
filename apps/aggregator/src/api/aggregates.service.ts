import { Injectable } from '@nestjs/common';
import { ApiError, validateWith } from '@choreo/http';
import { CompiledRule, WindowResult, windowResult } from '@choreo/aggregation';
import { Database } from '@choreo/persistence';
import { RuleSet } from '../windows/rule-set';
import type { WindowRecord } from '../windows/window.store';
import { lateQuery, windowsQuery } from './aggregates.query';

/** A rule as `GET /aggregates` lists it. */
export interface RuleSummary {
  name: string;
  description?: string;
  source: string;
  types: string[];
  window: CompiledRule['window'];
  groupBy: readonly string[];
  measures: Record<string, { fn: string; field?: string }>;
  emit: string;
  lateness_ms: number;
  output_entity?: string;
}

/** A contribution reported late: never counted, kept for operators. */
export interface LateRecord {
  event_id: string;
  event_time: string;
  retraction: boolean;
  window_start: string;
  window_end: string | null;
  watermark: string;
  recorded_at: string;
}

/** Reads the rules and their windows for REST. */
@Injectable()
export class AggregatesService {
  constructor(
    private readonly rules: RuleSet,
    private readonly db: Database,
  ) {}

  list(): { rules: RuleSummary[] } {
    return {
      rules: this.rules.rules.map((r) => ({
        name: r.name,
        ...(r.description !== undefined && { description: r.description }),
        source: r.source,
        types: [...r.types],
        window: r.window,
        groupBy: r.groupBy,
        measures: Object.fromEntries(
          r.measures.map(([name, m]) => [name, { fn: m.fn, ...(m.field && { field: m.field }) }]),
        ),
        emit: r.emit,
        lateness_ms: r.latenessMs,
        ...(r.output && { output_entity: r.output.entity }),
      })),
    };
  }

  /** The rule's windows (those with contributions), oldest first; 404 naming an unknown rule. */
  async windows(name: string, query: unknown): Promise<{ rule: string; windows: WindowResult[] }> {
    const rule = this.rule(name);
    const q = validateWith(windowsQuery, query, 'query');
    const keys = q.key === undefined ? null : this.keysOf(rule, q.key);
    const { rows } = await this.db.query<WindowRecord>(
      `select key, start_ms, end_ms, state, version, final from aggregate_window
       where rule = $1 and events > 0
         and ($2::text[] is null or key = any($2::text[]))
         and ($3::bigint is null or start_ms >= $3) and ($4::bigint is null or start_ms < $4)
         and ($5::boolean is null or final = $5)
       order by start_ms desc, key limit $6`,
      [
        rule.name,
        keys,
        q.from === undefined ? null : Date.parse(q.from),
        q.to === undefined ? null : Date.parse(q.to),
        q.final === undefined ? null : q.final === 'true',
        q.limit,
      ],
    );
    const windows = rows.reverse().map((r) =>
      windowResult(rule, {
        key: r.key,
        start: Number(r.start_ms),
        end: r.end_ms === null ? Infinity : Number(r.end_ms),
        state: r.state,
        version: r.version,
        final: r.final,
      }),
    );
    return { rule: rule.name, windows };
  }

  async late(name: string, query: unknown): Promise<{ rule: string; late: LateRecord[] }> {
    const rule = this.rule(name);
    const q = validateWith(lateQuery, query, 'query');
    const { rows } = await this.db.query<LateRecord>(
      `select event_id, to_json(event_time)#>>'{}' as event_time, retraction,
         to_json(window_start)#>>'{}' as window_start, to_json(window_end)#>>'{}' as window_end,
         to_json(watermark)#>>'{}' as watermark, to_json(recorded_at)#>>'{}' as recorded_at
       from aggregate_late where rule = $1 order by id desc limit $2`,
      [rule.name, q.limit],
    );
    return { rule: rule.name, late: rows };
  }

  private rule(name: string): CompiledRule {
    const rule = this.rules.byName.get(name);
    if (!rule) {
      throw new ApiError(404, 'unknown_rule', `no aggregation rule '${name}' (GET /aggregates lists them)`, [
        { field: 'rule', message: `no rule named ${name}` },
      ]);
    }
    return rule;
  }

  // `key=tea` for one groupBy field (as text, number or boolean), or a JSON array for several.
  private keysOf(rule: CompiledRule, key: string): string[] {
    const invalid = (message: string) => ApiError.invalid([{ field: 'key', message }], 'query');
    if (rule.groupBy.length === 0) throw invalid(`rule ${rule.name} has no groupBy`);
    if (key.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(key);
      } catch {
        throw invalid('is not a JSON array');
      }
      if (!Array.isArray(parsed) || parsed.length !== rule.groupBy.length) {
        throw invalid(`must be a JSON array of ${rule.groupBy.length} values (${rule.groupBy.join(', ')})`);
      }
      return [JSON.stringify(parsed)];
    }
    if (rule.groupBy.length !== 1) {
      throw invalid(`rule ${rule.name} groups by ${rule.groupBy.join(', ')}: give a JSON array`);
    }
    const candidates = [JSON.stringify([key])];
    if (key !== '' && Number.isFinite(Number(key))) candidates.push(JSON.stringify([Number(key)]));
    if (key === 'true' || key === 'false') candidates.push(JSON.stringify([key === 'true']));
    if (key === 'null') candidates.push(JSON.stringify([null]));
    return candidates;
  }
}
