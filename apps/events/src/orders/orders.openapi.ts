import { z } from 'zod';
import { OPENAPI_BEARER_SCHEME, OPENAPI_ERROR_SCHEMA, OpenApiFragment } from '@choreo/http';
import { ORDER_STATUSES, orderLine } from '@choreo/contracts';
import { ORDER_ACTIONS } from './order-state-machine';
import { orderActionBody, placeOrderBody } from './order.dto';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: OPENAPI_ERROR_SCHEMA }) });
const security = [{ [OPENAPI_BEARER_SCHEME]: [] }];
const writeErrors = {
  '400': error('invalid fields, each named in `issues`'),
  '401': error('no bearer token'),
  '403': error('unknown token'),
};
const eventHeaders = {
  'X-Event-ID': { description: 'id of the event recorded with this change', schema: { type: 'string' } },
  'X-Correlation-ID': {
    description: 'the request correlation id (given or generated)',
    schema: { type: 'string' },
  },
};
const orderIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

/** The OpenAPI paths and schemas of `/orders`. */
export function ordersOpenApi(): OpenApiFragment {
  const order = {
    type: 'object',
    required: [
      'id',
      'status',
      'customer',
      'address',
      'items',
      'total',
      'sequence',
      'created_at',
      'updated_at',
    ],
    properties: {
      id: { type: 'string', format: 'uuid' },
      status: { type: 'string', enum: [...ORDER_STATUSES] },
      customer: { type: 'string' },
      address: { type: 'string' },
      items: { type: 'array', items: z.toJSONSchema(orderLine, { io: 'output' }) },
      total: { type: 'string', description: 'a decimal, as a string to keep every digit' },
      sequence: { type: 'integer', description: 'the order version: 1 when created, +1 per transition' },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  };
  const tags = ['orders'];
  const fragment: OpenApiFragment = {
    tags: [{ name: 'orders', description: 'orders, stock reservation and the order lifecycle' }],
    components: {
      schemas: {
        Order: order,
        PlacedOrder: {
          allOf: [
            ref('Order'),
            {
              type: 'object',
              required: ['tracking'],
              properties: {
                tracking: {
                  type: 'object',
                  description: 'a short-lived HS256 token for subscribing to channel order:<id>',
                  required: ['token', 'channel', 'expires_at'],
                  properties: {
                    token: { type: 'string' },
                    channel: { type: 'string' },
                    expires_at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          ],
        },
        PlaceOrder: z.toJSONSchema(placeOrderBody, { io: 'input' }) as Record<string, unknown>,
        OrderAction: z.toJSONSchema(orderActionBody, { io: 'input', unrepresentable: 'any' }) as Record<
          string,
          unknown
        >,
      },
    },
    paths: {
      '/orders': {
        post: {
          tags,
          operationId: 'placeOrder',
          summary: 'Place an order: reserve and price each line, record order.created, in one transaction',
          security,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 200 },
              description: 'a retry with the same key and body replays the first answer; another body is 422',
            },
            { name: 'X-Correlation-ID', in: 'header', required: false, schema: { type: 'string' } },
          ],
          requestBody: { required: true, content: json(ref('PlaceOrder')) },
          responses: {
            '201': {
              description: 'placed; Location names the order',
              headers: { Location: { schema: { type: 'string' } }, ...eventHeaders },
              content: json(ref('PlacedOrder')),
            },
            ...writeErrors,
            '409': error('not enough stock for a line (named in `product_id`); nothing was reserved'),
            '415': error('not application/json'),
            '422': error('unknown product, or an Idempotency-Key reused with another body'),
          },
        },
        get: {
          tags,
          operationId: 'listOrders',
          summary: "Orders newest first; page with `before` = the previous page's `next`",
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: [...ORDER_STATUSES] } },
            { name: 'customer', in: 'query', schema: { type: 'string' } },
            { name: 'before', in: 'query', schema: { type: 'string', format: 'uuid' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            },
          ],
          responses: {
            '200': {
              description: 'a page of orders',
              content: json({
                type: 'object',
                required: ['items', 'next'],
                properties: {
                  items: { type: 'array', items: ref('Order') },
                  next: {
                    type: ['string', 'null'],
                    description: 'cursor of the next page, null on the last',
                  },
                },
              }),
            },
            '400': error('a bad filter'),
          },
        },
      },
      '/orders/{id}': {
        get: {
          tags,
          operationId: 'getOrder',
          parameters: [orderIdParameter],
          responses: {
            '200': { description: 'the order', content: json(ref('Order')) },
            '404': error('no such order'),
          },
        },
      },
    },
  };
  fragment.paths['/orders/{id}/tracking-token'] = {
    post: {
      tags,
      operationId: 'renewTrackingToken',
      summary: 'A fresh tracking token for the order, authorised by its still-valid tracking token',
      description:
        'Send the current tracking token as `Authorization: Bearer <token>` (not an API token); renew before `expires_at` to keep a subscription.',
      security: [],
      parameters: [orderIdParameter],
      responses: {
        '200': {
          description: 'the new token',
          content: json({
            type: 'object',
            required: ['token', 'channel', 'expires_at'],
            properties: {
              token: { type: 'string' },
              channel: { type: 'string' },
              expires_at: { type: 'string', format: 'date-time' },
            },
          }),
        },
        '401': error('no tracking token, or one that is garbled, expired or signed with another secret'),
        '403': error('the tracking token is for another order'),
      },
    },
  };
  for (const [action, status] of Object.entries(ORDER_ACTIONS)) {
    fragment.paths[`/orders/{id}/${action}`] = {
      post: {
        tags,
        operationId: `${action}Order`,
        summary: `Move the order to ${status} and record order.${status}${action === 'cancel' ? ' (restocks its lines)' : ''}`,
        security,
        parameters: [orderIdParameter],
        requestBody: { required: false, content: json(ref('OrderAction')) },
        responses: {
          '200': {
            description: 'the order after the move',
            headers: eventHeaders,
            content: json(ref('Order')),
          },
          ...writeErrors,
          '404': error('no such order'),
          '409': error('the lifecycle does not allow this move now; `current` and `allowed` say why'),
        },
      },
    };
  }
  return fragment;
}
