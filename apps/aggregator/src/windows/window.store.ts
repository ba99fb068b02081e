import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  AccumulatorState,
  CompiledRule,
  Contribution,
  LateContribution,
  RowState,
  SpanState,
  WindowRow,
  measureValues,
  windowId,
} from '@choreo/aggregation';
import { Queryable } from '@choreo/persistence';

/** A row of `aggregate_window` as the store and the aggregates API select it. */
export interface WindowRecord {
  key: string;
  start_ms: string;
  end_ms: string | null;
  state: AccumulatorState;
  version: number;
  final: boolean;
}

const toRow = (r: WindowRecord): WindowRow => ({
  key: r.key,
  start: Number(r.start_ms),
  end: r.end_ms === null ? Infinity : Number(r.end_ms),
  state: r.state,
  version: r.version,
  final: r.final,
});

/** A source's watermark row, locked for the transaction. */
export interface SourceClock {
  source: string;
  /** -Infinity before the first event. */
  watermark: number;
  lastEventAt?: number;
}

/** The aggregator's tables, as SQL. Every method runs inside the caller's transaction. */
@Injectable()
export class WindowStore {
  /** Locks the sources (creating their rows), in name order so concurrent batches cannot deadlock. */
  async lockSources(tx: PoolClient, sources: readonly string[]): Promise<Map<string, SourceClock>> {
    const sorted = [...new Set(sources)].sort();
    // The upsert creates missing rows and locks them all (in name order) in one statement.
    const { rows } = await tx.query<{
      source: string;
      watermark_ms: string | null;
      last_event_at: Date | null;
    }>(
      `insert into aggregate_source (source) select unnest($1::text[]) order by 1
       on conflict (source) do update set source = excluded.source
       returning source, watermark_ms, last_event_at`,
      [sorted],
    );
    return new Map(
      rows.map((r) => [
        r.source,
        {
          source: r.source,
          watermark: r.watermark_ms === null ? -Infinity : Number(r.watermark_ms),
          ...(r.last_event_at && { lastEventAt: r.last_event_at.getTime() }),
        },
      ]),
    );
  }

  async saveSource(tx: Queryable, source: string, watermark: number, delivered: boolean): Promise<void> {
    await tx.query(
      `update aggregate_source set watermark_ms = $2,
         last_event_at = case when $3 then now() else last_event_at end
       where source = $1`,
      [source, Number.isFinite(watermark) ? watermark : null, delivered],
    );
  }

  /** Claims event ids for the aggregator (the shared inbox table); returns those not seen before. */
  async claimEvents(tx: Queryable, consumer: string, ids: readonly string[]): Promise<Set<string>> {
    // Sorted, so two replicas claiming overlapping batches lock the keys in the same order.
    const { rows } = await tx.query<{ event_id: string }>(
      `insert into inbox (consumer, event_id) select $1, id from unnest($2::text[]) as id order by id
       on conflict do nothing returning event_id`,
      [consumer, [...new Set(ids)].sort()],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  async loadWindows(
    tx: Queryable,
    rule: string,
    keys: readonly { key: string; start: number }[],
  ): Promise<Map<string, WindowRow>> {
    if (keys.length === 0) return new Map();
    const { rows } = await tx.query<WindowRecord>(
      `select w.key, w.start_ms, w.end_ms, w.state, w.version, w.final
       from aggregate_window w join unnest($2::text[], $3::bigint[]) as k(key, start_ms)
         on w.key = k.key and w.start_ms = k.start_ms
       where w.rule = $1`,
      [rule, keys.map((k) => k.key), keys.map((k) => k.start)],
    );
    return new Map(rows.map((r) => [windowId(r.key, Number(r.start_ms)), toRow(r)]));
  }

  /** The sessions of `keys` that could take an event between `from` and `to`. */
  async loadSessions(
    tx: Queryable,
    rule: string,
    keys: readonly string[],
    from: number,
    to: number,
  ): Promise<Map<string, WindowRow>> {
    const { rows } = await tx.query<WindowRecord>(
      `select key, start_ms, end_ms, state, version, final from aggregate_window
       where rule = $1 and key = any($2::text[]) and end_ms >= $3 and start_ms <= $4`,
      [rule, [...new Set(keys)], from, to],
    );
    return new Map(rows.map((r) => [windowId(r.key, Number(r.start_ms)), toRow(r)]));
  }

  /** Open windows whose end plus the rule's lateness the watermark has passed. */
  async loadDue(tx: Queryable, rule: CompiledRule, watermark: number): Promise<WindowRow[]> {
    const { rows } = await tx.query<WindowRecord>(
      `select key, start_ms, end_ms, state, version, final from aggregate_window
       where rule = $1 and not final and end_ms is not null and end_ms + $2 <= $3`,
      [rule.name, rule.latenessMs, watermark],
    );
    return rows.map(toRow);
  }

  async saveWindows(tx: Queryable, rule: CompiledRule, windows: readonly WindowRow[]): Promise<void> {
    if (windows.length === 0) return;
    const records = windows.map((w) => ({
      key: w.key,
      start_ms: w.start,
      end_ms: Number.isFinite(w.end) ? w.end : null,
      state: w.state,
      values: measureValues(rule, w.state),
      events: w.state.n,
      version: w.version,
      final: w.final,
    }));
    await tx.query(
      `insert into aggregate_window (rule, key, start_ms, end_ms, state, values, events, version, final, updated_at)
       select $1, w.key, w.start_ms, w.end_ms, w.state, w.values, w.events, w.version, w.final, now()
       from jsonb_to_recordset($2::jsonb) as w(key text, start_ms bigint, end_ms bigint, state jsonb,
         values jsonb, events integer, version integer, final boolean)
       on conflict (rule, key, start_ms) do update set end_ms = excluded.end_ms, state = excluded.state,
         values = excluded.values, events = excluded.events, version = excluded.version,
         final = excluded.final, updated_at = now()`,
      [rule.name, JSON.stringify(records)],
    );
  }

  async deleteWindows(
    tx: Queryable,
    rule: string,
    windows: readonly { key: string; start: number }[],
  ): Promise<void> {
    if (windows.length === 0) return;
    await tx.query(
      `delete from aggregate_window w using unnest($2::text[], $3::bigint[]) as k(key, start_ms)
       where w.rule = $1 and w.key = k.key and w.start_ms = k.start_ms`,
      [rule, windows.map((w) => w.key), windows.map((w) => w.start)],
    );
  }

  /** Row contributions of a cdc rule: of `keys`, or every row (a truncate) when keys is undefined. */
  async loadRows(tx: Queryable, rule: string, keys?: readonly string[]): Promise<Map<string, RowState>> {
    const { rows } = await tx.query<{ row_key: string; position: string; contribution: Contribution | null }>(
      keys
        ? 'select row_key, position, contribution from aggregate_row where rule = $1 and row_key = any($2::text[])'
        : 'select row_key, position, contribution from aggregate_row where rule = $1',
      keys ? [rule, [...new Set(keys)]] : [rule],
    );
    return new Map(rows.map((r) => [r.row_key, { position: r.position, contribution: r.contribution }]));
  }

  async saveRows(
    tx: Queryable,
    rule: string,
    rows: ReadonlyMap<string, RowState>,
    keys: Iterable<string>,
  ): Promise<void> {
    const records = [...keys].map((key) => ({ row_key: key, ...(rows.get(key) as RowState) }));
    if (records.length === 0) return;
    await tx.query(
      `insert into aggregate_row (rule, row_key, position, contribution)
       select $1, r.row_key, r.position, r.contribution
       from jsonb_to_recordset($2::jsonb) as r(row_key text, position text, contribution jsonb)
       on conflict (rule, row_key) do update set position = excluded.position, contribution = excluded.contribution`,
      [rule, JSON.stringify(records)],
    );
  }

  async loadSpans(tx: Queryable, rule: string, subjects: readonly string[]): Promise<Map<string, SpanState>> {
    const { rows } = await tx.query<{ subject: string; state: SpanState }>(
      'select subject, state from aggregate_span where rule = $1 and subject = any($2::text[])',
      [rule, [...new Set(subjects)]],
    );
    return new Map(rows.map((r) => [r.subject, r.state]));
  }

  async saveSpans(
    tx: Queryable,
    rule: string,
    spans: ReadonlyMap<string, SpanState>,
    subjects: Iterable<string>,
  ): Promise<void> {
    const records = [...subjects].map((subject) => ({ subject, state: spans.get(subject) }));
    if (records.length === 0) return;
    await tx.query(
      `insert into aggregate_span (rule, subject, state)
       select $1, s.subject, s.state from jsonb_to_recordset($2::jsonb) as s(subject text, state jsonb)
       on conflict (rule, subject) do update set state = excluded.state`,
      [rule, JSON.stringify(records)],
    );
  }

  async recordLate(tx: Queryable, rule: string, late: readonly LateContribution[]): Promise<void> {
    if (late.length === 0) return;
    const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    await tx.query(
      `insert into aggregate_late (rule, event_id, event_time, retraction, window_start, window_end, watermark)
       select $1, l.event_id, l.event_time, l.retraction, l.window_start, l.window_end, l.watermark
       from jsonb_to_recordset($2::jsonb) as l(event_id text, event_time timestamptz, retraction boolean,
         window_start timestamptz, window_end timestamptz, watermark timestamptz)`,
      [
        rule,
        JSON.stringify(
          late.map((l) => ({
            event_id: l.eventId,
            event_time: iso(l.contribution.time),
            retraction: l.sign === -1,
            window_start: iso(l.start),
            window_end: iso(l.end),
            watermark: iso(l.watermark),
          })),
        ),
      ],
    );
  }
}
