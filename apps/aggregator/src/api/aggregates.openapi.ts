import { z } from 'zod';
import { OPENAPI_ERROR_SCHEMA, OpenApiFragment } from '@choreo/http';
import { aggregateResult } from '@choreo/contracts';
import { lateQuery, windowsQuery } from './aggregates.query';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: OPENAPI_ERROR_SCHEMA }) });
const ruleParameter = {
  name: 'rule',
  in: 'path',
  required: true,
  description: 'a rule name from GET /aggregates',
  schema: { type: 'string' },
};

function queryParameters(schema: z.ZodObject): unknown[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties: Record<string, { description?: string }>;
  };
  return Object.entries(json.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    ...(property.description && { description: property.description }),
    schema: property,
  }));
}

/** The OpenAPI paths and schemas of `/aggregates`. */
export function aggregatesOpenApi(): OpenApiFragment {
  const tags = ['aggregates'];
  return {
    tags: [
      { name: 'aggregates', description: 'windowed aggregates over the streams (docs/aggregations.md)' },
    ],
    components: {
      schemas: {
        AggregateWindow: z.toJSONSchema(aggregateResult, { io: 'output' }) as Record<string, unknown>,
        AggregationRule: {
          type: 'object',
          required: ['name', 'source', 'types', 'window', 'groupBy', 'measures', 'emit', 'lateness_ms'],
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            source: { type: 'string', description: 'the stream read: orders, events.<entity>, cdc.<table>' },
            types: { type: 'array', items: { type: 'string' } },
            window: {
              type: 'object',
              description: 'type tumbling (sizeMs), hopping (sizeMs, slideMs), session (gapMs) or global',
              properties: {
                type: { type: 'string', enum: ['tumbling', 'hopping', 'session', 'global'] },
                sizeMs: { type: 'integer' },
                slideMs: { type: 'integer' },
                gapMs: { type: 'integer' },
              },
            },
            groupBy: { type: 'array', items: { type: 'string' } },
            measures: {
              type: 'object',
              additionalProperties: {
                type: 'object',
                properties: { fn: { type: 'string' }, field: { type: 'string' } },
              },
            },
            emit: { type: 'string', enum: ['updates', 'final'] },
            lateness_ms: { type: 'integer' },
            output_entity: { type: 'string' },
          },
        },
        LateContribution: {
          type: 'object',
          properties: {
            event_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            retraction: { type: 'boolean', description: 'a row change retracting an earlier contribution' },
            window_start: { type: 'string', format: 'date-time' },
            window_end: { type: ['string', 'null'], format: 'date-time' },
            watermark: { type: 'string', format: 'date-time', description: 'the source watermark then' },
            recorded_at: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    paths: {
      '/aggregates': {
        get: {
          tags,
          operationId: 'listAggregationRules',
          summary: 'The aggregation rules',
          responses: {
            '200': {
              description: 'every loaded rule',
              content: json({
                type: 'object',
                properties: { rules: { type: 'array', items: ref('AggregationRule') } },
              }),
            },
          },
        },
      },
      '/aggregates/{rule}': {
        get: {
          tags,
          operationId: 'getAggregateWindows',
          summary: "A rule's windows with their values, version and whether final",
          parameters: [ruleParameter, ...queryParameters(windowsQuery)],
          responses: {
            '200': {
              description: 'windows with at least one contribution, oldest first (the newest `limit`)',
              content: json({
                type: 'object',
                properties: {
                  rule: { type: 'string' },
                  windows: { type: 'array', items: ref('AggregateWindow') },
                },
              }),
            },
            '400': error('an unknown or invalid query parameter, named in `issues`'),
            '404': error('no rule of that name'),
          },
        },
      },
      '/aggregates/{rule}/late': {
        get: {
          tags,
          operationId: 'getLateContributions',
          summary: 'Contributions that came after their window closed (reported, not counted)',
          parameters: [ruleParameter, ...queryParameters(lateQuery)],
          responses: {
            '200': {
              description: 'newest first',
              content: json({
                type: 'object',
                properties: {
                  rule: { type: 'string' },
                  late: { type: 'array', items: ref('LateContribution') },
                },
              }),
            },
            '400': error('an unknown or invalid query parameter, named in `issues`'),
            '404': error('no rule of that name'),
          },
        },
      },
    },
  };
}
