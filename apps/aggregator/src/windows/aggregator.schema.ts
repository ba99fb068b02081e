import { INBOX_SCHEMA, Migration } from '@choreo/persistence';

/**
 * The aggregator's own tables (its read model and bookkeeping), forward-only. Times are epoch
 * milliseconds (bigint) as the window engine reckons them; `end_ms` is null for the global window.
 */
export const AGGREGATOR_MIGRATIONS: Migration[] = [
  {
    id: '001_aggregates',
    sql: [
      INBOX_SCHEMA,
      `create table if not exists aggregate_window (
        rule text not null,
        key text not null,
        start_ms bigint not null,
        end_ms bigint,
        state jsonb not null,
        values jsonb not null,
        events integer not null,
        version integer not null check (version > 0),
        final boolean not null default false,
        updated_at timestamptz not null default now(),
        primary key (rule, key, start_ms)
      )`,
      'create index if not exists aggregate_window_open_idx on aggregate_window (rule, end_ms) where not final',
      'create index if not exists aggregate_window_start_idx on aggregate_window (rule, start_ms)',
      // What each row of a cdc.* source contributes now, so an update or delete can retract it.
      `create table if not exists aggregate_row (
        rule text not null,
        row_key text not null,
        position text not null,
        contribution jsonb,
        primary key (rule, row_key)
      )`,
      // The halves of spans (order.created … order.delivered) waiting for the other half.
      `create table if not exists aggregate_span (
        rule text not null,
        subject text not null,
        state jsonb not null,
        primary key (rule, subject)
      )`,
      // One row per source stream: its watermark, and when it last delivered (idle detection). Batches
      // lock their sources' rows, so replicas take turns per source.
      `create table if not exists aggregate_source (
        source text primary key,
        watermark_ms bigint,
        last_event_at timestamptz
      )`,
      // Contributions that came after their window closed: reported here, never counted.
      `create table if not exists aggregate_late (
        id bigserial primary key,
        rule text not null,
        event_id text not null,
        event_time timestamptz not null,
        retraction boolean not null,
        window_start timestamptz not null,
        window_end timestamptz,
        watermark timestamptz not null,
        recorded_at timestamptz not null default now()
      )`,
      'create index if not exists aggregate_late_rule_idx on aggregate_late (rule, id)',
    ].join(';\n'),
  },
];
