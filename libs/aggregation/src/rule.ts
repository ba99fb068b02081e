import { z } from 'zod';
import { DURATION_PATTERN } from './duration';
import { definitionJsonSchema, jsonSchemaText } from '@choreo/contracts';

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case (a-z, 0-9, _), starting with a letter')
  .max(48, 'must be at most 48 characters');

const duration = z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration like 500ms, 5s, 1m, 2h');

/** A dotted path into the event's record (its `data`; for `cdc.*` sources, the row). */
const fieldPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a dotted field path (a.b.c)');

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const condition = z
  .object({
    field: fieldPath,
    op: z
      .enum(['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'exists'])
      .optional()
      .describe('eq (default), ne, in (value is a list), gt, gte, lt, lte (numbers or text), exists'),
    value: z.union([scalar, z.array(scalar)]).optional(),
  })
  .strict();

const windowSpec = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('tumbling'),
      size: duration.describe('window length; windows are [start, end)'),
    })
    .strict(),
  z
    .object({
      type: z.literal('hopping'),
      size: duration.describe('window length'),
      slide: duration.describe('a new window starts every slide; at most size'),
    })
    .strict(),
  z
    .object({
      type: z.literal('session'),
      gap: duration.describe('events of one key at most gap apart share a session; [first, last + gap)'),
    })
    .strict(),
  z
    .object({ type: z.literal('global') })
    .strict()
    .describe('one window for all time that never closes'),
]);

export const MEASURE_FUNCTIONS = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'count_distinct',
  'string_agg',
] as const;
export type MeasureFunction = (typeof MEASURE_FUNCTIONS)[number];

const measure = z
  .object({
    fn: z.enum(MEASURE_FUNCTIONS),
    field: fieldPath.optional().describe('the record field measured; count without a field counts events'),
    separator: z.string().optional().describe('string_agg only; `,` by default'),
  })
  .strict();

/** One declared aggregation rule: what to read, which window, which groups, which measures. */
export const aggregationRule = z
  .object({
    name: identifier.describe('unique across all rules; names the results (`GET /aggregates/<name>`)'),
    description: z.string().optional(),
    source: z
      .string()
      .regex(
        /^(orders|couriers|kitchen|events\.[a-z][a-z0-9_]*|cdc\.[a-z][a-z0-9_]*)$/,
        'must be orders, couriers, kitchen, events.<entity> or cdc.<table>',
      )
      .optional()
      .describe('the stream read; in an entity file, cdc.<entity> by default'),
    types: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('event types counted; for cdc.<table> sources <table>.inserted/updated/deleted by default'),
    where: z.array(condition).optional().describe('conditions on the record; all must hold'),
    span: z
      .object({
        from: z.string().min(1).describe('event type that starts the span'),
        to: z.string().min(1).describe('event type that ends it; its time is the contribution time'),
      })
      .strict()
      .optional()
      .describe(
        'pairs two events of one subject; the record is the `to` event data plus duration_ms and duration_s',
      ),
    window: windowSpec,
    groupBy: z.array(fieldPath).optional().describe('record fields that split the results into keys'),
    measures: z
      .record(identifier, measure)
      .refine((m) => Object.keys(m).length > 0, 'needs at least one measure'),
    emit: z
      .enum(['updates', 'final'])
      .optional()
      .describe(
        'updates (default): aggregate.updated after each change, then aggregate.closed; final: only closed',
      ),
    lateness: duration
      .optional()
      .describe('allowed lateness after the watermark passes a window end; 0 by default'),
    output: z
      .object({
        entity: identifier.describe('an entity with window_start, window_end, final and a field per measure'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type AggregationRuleDefinition = z.infer<typeof aggregationRule>;
export type ConditionDefinition = z.infer<typeof condition>;
export type MeasureDefinition = z.infer<typeof measure>;
export type WindowDefinition = z.infer<typeof windowSpec>;

/** A rules file, `aggregations/<name>.yaml`. */
export const aggregationRulesFile = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    rules: z.array(aggregationRule).min(1),
  })
  .strict();

/** The JSON Schema of `aggregations/*.yaml`, for editors (`# yaml-language-server: $schema=…`) and CI. */
export function aggregationRulesJsonSchema(): Record<string, unknown> {
  return definitionJsonSchema(aggregationRulesFile, {
    $id: 'https://choreo.dev/schemas/aggregation.schema.json',
    title: 'choreo aggregation rules',
    description: 'Windowed aggregation rules over the streams. See docs/aggregations.md.',
  });
}

/** The file's text, as shipped in `aggregations/aggregation.schema.json` (`npm run docs:definitions` writes it). */
export function aggregationRulesJsonSchemaText(): string {
  return jsonSchemaText(aggregationRulesJsonSchema());
}
