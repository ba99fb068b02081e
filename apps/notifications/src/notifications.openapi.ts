import { OPENAPI_BEARER_SCHEME, OPENAPI_ERROR_SCHEMA, OpenApiFragment } from '@choreo/http';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: OPENAPI_ERROR_SCHEMA }) });
/** Public channels need no token; order channels (and entity/aggregate ones when configured) do. */
const optionalBearer = [{}, { [OPENAPI_BEARER_SCHEME]: [] }];
const tags = ['realtime'];

const channelGrant = {
  type: 'object',
  required: ['channel'],
  additionalProperties: false,
  properties: {
    channel: {
      type: 'string',
      examples: ['order:0193a1c2-…', 'entity:product', 'aggregates:orders_per_minute'],
    },
    token: {
      type: 'string',
      description: 'the tracking token of an order channel, or an API token where channels are protected',
    },
  },
};

const sseErrors = {
  '400': error(
    'no channel, more than 20, or a channel name that is not order:<uuid>, entity:<name> or aggregates:<rule>',
  ),
  '401': error(
    'a channel needs a token and none, a garbled or an expired one was given; or the ticket is unknown, used or expired',
  ),
  '403': error("the token is valid but for another order's channel"),
  '503': error('Redis cannot be reached now (tickets are kept there): try again'),
};

/**
 * The notifications app's REST routes: SSE (`/sse`, `/sse/tickets`) and the live page's. The
 * WebSocket protocol at `/ws` is documented in docs/realtime.md, with a JSON Schema per frame.
 */
export function notificationsOpenApi(): OpenApiFragment {
  return {
    tags: [
      {
        name: 'realtime',
        description: 'Server-Sent Events: the channels of /ws for curl -N and EventSource',
      },
      { name: 'live page', description: 'the live order-tracking page and what it needs' },
    ],
    components: {
      schemas: {
        ChannelGrant: channelGrant,
        SseTicket: {
          type: 'object',
          required: ['ticket', 'expires_at'],
          properties: {
            ticket: { type: 'string', format: 'uuid', description: 'single use: GET /sse?ticket=<ticket>' },
            expires_at: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    paths: {
      '/sse': {
        get: {
          tags,
          operationId: 'streamChannels',
          summary: 'Follow channels as Server-Sent Events; Last-Event-ID resumes every one of them',
          description:
            'Events: `subscribed`, `publication`, `snapshot` (data = the WebSocket frame, JSON), `unsubscribed` ' +
            '(token expired), `error`; `id:` is a cursor for all the stream’s channels; comment heartbeats. A ' +
            'token goes in `Authorization: Bearer …` (it applies to every channel given) or, for EventSource, ' +
            'is exchanged first for a ticket (POST /sse/tickets); never in the URL.',
          security: optionalBearer,
          parameters: [
            {
              name: 'channel',
              in: 'query',
              description: 'one or more (repeated or comma-separated), at most 20; not with `ticket`',
              schema: { type: 'array', items: { type: 'string' }, maxItems: 20 },
              style: 'form',
              explode: true,
            },
            {
              name: 'ticket',
              in: 'query',
              description: 'a ticket from POST /sse/tickets (its channels and tokens)',
              schema: { type: 'string' },
            },
            {
              name: 'Last-Event-ID',
              in: 'header',
              description: 'the `id:` of the last event received: resumes every channel from there',
              schema: { type: 'string' },
            },
            {
              name: 'last_event_id',
              in: 'query',
              description: 'the same as Last-Event-ID, for clients that cannot set the header',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': {
              description: 'the event stream, open until the client leaves or a token expires',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...sseErrors,
          },
        },
      },
      '/sse/tickets': {
        post: {
          tags,
          operationId: 'createSseTicket',
          summary:
            'Exchange channels and their tokens for a single-use ticket EventSource can put in the URL',
          description:
            'Every channel is authorised now, as GET /sse would; the ticket lives 60 s and works once.',
          security: [],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['channels'],
              properties: {
                channels: {
                  type: 'array',
                  minItems: 1,
                  maxItems: 20,
                  items: { $ref: '#/components/schemas/ChannelGrant' },
                },
              },
            }),
          },
          responses: {
            '201': { description: 'the ticket', content: json({ $ref: '#/components/schemas/SseTicket' }) },
            ...sseErrors,
            '400': error(
              'channels missing, empty, over 20, or an entry without a string channel (named), or a bad channel name',
            ),
            '401': error('a channel needs a token and none, a garbled or an expired one was given'),
          },
        },
      },
      '/': {
        get: {
          tags: ['live page'],
          operationId: 'livePage',
          summary: 'The live page (index.html)',
          security: [],
          responses: {
            '200': { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } },
            '503': {
              description: 'the page is not built (npm run build)',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/assets/{name}': {
        get: {
          tags: ['live page'],
          operationId: 'livePageAsset',
          summary: 'A hashed asset of the live page (immutable)',
          security: [],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the asset', content: { '*/*': { schema: { type: 'string' } } } },
            '404': error('no such asset'),
          },
        },
      },
      '/live-page/config.json': {
        get: {
          tags: ['live page'],
          operationId: 'livePageConfig',
          summary: 'Where the live page finds the public APIs',
          security: [],
          responses: {
            '200': {
              description: 'the URLs (null when not configured); a development token only where one is set',
              content: json({
                type: 'object',
                required: ['crud_url', 'events_url'],
                properties: {
                  crud_url: { type: ['string', 'null'] },
                  events_url: { type: ['string', 'null'] },
                  dev_token: { type: 'string' },
                },
              }),
            },
          },
        },
      },
    },
  };
}
