import { z } from 'zod';
import { defineEvent, EventData, timestamp } from '../event-definition';

// The aggregator's results on the `aggregates` stream (through its outbox); subject `<rule>:<key>@<start>`.
// One entry per window version: consumers keep the highest version they have seen per (rule, key, start).

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One window of one rule: its bounds, group key, measure values, version and whether it is final. */
export const aggregateResult = z.object({
  /** The rule's name (`orders_per_minute`); `aggregates:<rule>` is its real-time channel. */
  rule: z.string().min(1),
  /** The group-by values in groupBy order; `[]` for a rule without groupBy. */
  key: z.array(scalar),
  /** The same values by field path (`{ "category": "tea" }`). */
  group: z.record(z.string(), scalar),
  /** `[window_start, window_end)`; the global window starts at the epoch and has no end (null). */
  window_start: timestamp,
  window_end: timestamp.nullable(),
  /** Measure name → value: counts and averages are numbers, sums exact decimal text, string_agg text. */
  values: z.record(z.string(), scalar),
  /** Contributions counted (events, or current rows for a `cdc.*` rule). */
  events: z.int().min(0),
  /** Goes up by one with each change of the window; the closed event carries the last version. */
  version: z.int().positive(),
  final: z.boolean(),
});
export type AggregateResultData = z.infer<typeof aggregateResult>;

/** A window changed while it is open (rules with `emit: updates`). */
export const AggregateUpdated = defineEvent(
  'aggregate.updated',
  1,
  aggregateResult.extend({ final: z.literal(false) }),
);
/** A window closed: the watermark passed its end plus the allowed lateness; its values are final. */
export const AggregateClosed = defineEvent(
  'aggregate.closed',
  1,
  aggregateResult.extend({ final: z.literal(true) }),
);
export type AggregateUpdatedData = EventData<typeof AggregateUpdated>;
export type AggregateClosedData = EventData<typeof AggregateClosed>;

export const aggregateEvents = [AggregateUpdated, AggregateClosed] as const;
