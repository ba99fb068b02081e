import { OPENAPI_BEARER_SCHEME, OPENAPI_ERROR_SCHEMA, OpenApiFragment } from '@choreo/http';
import { EntityCatalog, EntityModel } from './entity-model';
import { entitySchemas, fieldJsonSchema, entitySchemaName, primaryKeySchema } from './entity-json-schemas';
import { FILTER_OPERATORS } from './filter-operators';
import { ListLimits, DEFAULT_LIST_LIMITS } from './list-query';

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: OPENAPI_ERROR_SCHEMA } } },
});

function listParameters(model: EntityModel, limits: ListLimits): unknown[] {
  const filters = model.columns.map((column) => ({
    name: column.name,
    in: 'query',
    required: false,
    description: `filter: [not.]op.value with op one of ${FILTER_OPERATORS.join(', ')} (e.g. ${column.name}=eq.x, in.(a,b), is.null); repeat to AND`,
    schema: { type: 'string' },
  }));
  return [
    ...filters,
    {
      name: 'order',
      in: 'query',
      description: 'field.asc|desc[.nullsfirst|.nullslast], comma-separated',
      schema: { type: 'string' },
    },
    {
      name: 'select',
      in: 'query',
      description: 'comma-separated fields to return',
      schema: { type: 'string' },
    },
    {
      name: 'limit',
      in: 'query',
      description: `rows (default ${limits.defaultLimit}, capped at ${limits.maxLimit})`,
      schema: { type: 'integer', minimum: 0 },
    },
    {
      name: 'offset',
      in: 'query',
      description: 'rows to skip; not with cursor',
      schema: { type: 'integer', minimum: 0 },
    },
    {
      name: 'cursor',
      in: 'query',
      description:
        'continue after the last row of the previous page: take the whole URL from the `Link: <…>; rel="next"` header of a full page. Opaque; only valid with the same order; not with offset',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
    },
  ];
}

/** The OpenAPI paths and schemas of every entity's REST routes under `basePath` (e.g. `/crud`). */
export function entitiesOpenApi(
  catalog: EntityCatalog,
  basePath: string,
  limits: ListLimits = DEFAULT_LIST_LIMITS,
): OpenApiFragment {
  const fragment: OpenApiFragment = { paths: {}, components: { schemas: {} }, tags: [] };
  const security = [{ [OPENAPI_BEARER_SCHEME]: [] }];
  const unauthorized = { '401': errorResponse('no bearer token'), '403': errorResponse('unknown token') };
  for (const model of catalog.all()) {
    Object.assign(fragment.components.schemas, entitySchemas(model));
    const name = entitySchemaName(model.name);
    const ref = (s: string) => ({ $ref: `#/components/schemas/${s}` });
    const json = (schema: unknown) => ({ 'application/json': { schema } });
    const tags = [model.name];
    fragment.tags?.push({ name: model.name, description: model.description ?? `the ${model.name} entity` });
    const idParam = { name: 'id', in: 'path', required: true, schema: primaryKeySchema(model) };
    const etag = { ETag: { description: 'the row version, for If-Match', schema: { type: 'string' } } };
    // A change can only collide on a unique field; a POST also on an explicit primary key.
    const uniqueConflict = model.indexes.some((index) => index.unique)
      ? { '409': errorResponse('a unique field already has that value') }
      : {};
    fragment.paths[`${basePath}/${model.name}`] = {
      get: {
        tags,
        operationId: `list${name}`,
        summary: `List ${model.name} rows`,
        parameters: listParameters(model, limits),
        responses: {
          '200': {
            description: 'rows',
            headers: {
              Link: {
                description:
                  `on a full page (as many rows as the limit): \`<${basePath}/${model.name}?…&cursor=…>; rel="next"\` ` +
                  '(RFC 8288), the same query continuing after its last row; absent on the last page',
                schema: { type: 'string' },
              },
            },
            content: json({ type: 'array', items: ref(name) }),
          },
          '206': {
            description:
              'with Prefer: count=exact, a page that is not all of the rows; Content-Range says which',
            content: json({ type: 'array', items: ref(name) }),
          },
          '400': errorResponse('a bad filter, order, select, limit, offset or cursor'),
          '406': errorResponse(
            'an Accept type choreo does not serve, or the single-object type and not one row',
          ),
          '416': errorResponse('with Prefer: count=exact, an offset past the total'),
        },
      },
      post: {
        tags,
        operationId: `create${name}`,
        summary: `Create one ${model.name} (an object) or several in one transaction (an array)`,
        security,
        requestBody: {
          required: true,
          content: json({ oneOf: [ref(`${name}Create`), { type: 'array', items: ref(`${name}Create`) }] }),
        },
        responses: {
          '201': {
            description: 'created; Location names the row (for a single object)',
            headers: { Location: { schema: { type: 'string' } }, ...etag },
            content: json({ oneOf: [ref(name), { type: 'array', items: ref(name) }] }),
          },
          '400': errorResponse('invalid fields, each named'),
          ...unauthorized,
          '409': errorResponse('a unique field already has that value (named in `field`)'),
          '413': errorResponse('body over the limit'),
          '415': errorResponse('not application/json'),
        },
      },
    };
    const filterOnly = listParameters(model, limits).filter(
      (p) => !['order', 'limit', 'offset', 'cursor'].includes((p as { name: string }).name),
    );
    const prefer = {
      name: 'Prefer',
      in: 'header',
      required: false,
      description: 'return=representation|minimal|headers-only, count=exact, handling=strict, max-affected=N',
      schema: { type: 'string' },
    };
    const bulk = (verb: string) => ({
      '200': {
        description: 'with Prefer: return=representation, the rows',
        content: json({ type: 'array', items: ref(name) }),
      },
      '204': { description: `${verb}; no body` },
      '400': errorResponse('no filter (one is required), or a bad filter or body, each named'),
      ...unauthorized,
      '406': errorResponse('the single-object Accept type and not exactly one row (rolled back)'),
    });
    Object.assign(fragment.paths[`${basePath}/${model.name}`], {
      patch: {
        tags,
        operationId: `update${name}Where`,
        summary: `Change every ${model.name} row the filters match (a filter is required)`,
        security,
        parameters: [...filterOnly, prefer],
        requestBody: { required: true, content: json(ref(`${name}Patch`)) },
        responses: { ...bulk('updated'), ...uniqueConflict },
      },
      delete: {
        tags,
        operationId: `delete${name}Where`,
        summary: `Delete every ${model.name} row the filters match (a filter is required)`,
        security,
        parameters: [...filterOnly, prefer],
        responses: bulk('deleted'),
      },
    });
    fragment.paths[`${basePath}/${model.name}/{id}`] = {
      get: {
        tags,
        operationId: `get${name}`,
        parameters: [idParam],
        responses: {
          '200': { description: 'the row', headers: etag, content: json(ref(name)) },
          '404': errorResponse('no such row'),
        },
      },
      patch: {
        tags,
        operationId: `update${name}`,
        summary: 'Change some fields; with If-Match only if the row is still at that version',
        security,
        parameters: [
          idParam,
          {
            name: 'If-Match',
            in: 'header',
            required: false,
            schema: { type: 'string' },
            description: 'an ETag from a read',
          },
        ],
        requestBody: { required: true, content: json(ref(`${name}Patch`)) },
        responses: {
          '200': { description: 'the updated row', headers: etag, content: json(ref(name)) },
          '400': errorResponse('invalid fields, each named'),
          ...unauthorized,
          '404': errorResponse('no such row'),
          ...uniqueConflict,
          '412': errorResponse('the row changed since that ETag'),
          '415': errorResponse('not application/json'),
        },
      },
      delete: {
        tags,
        operationId: `delete${name}`,
        security,
        parameters: [
          idParam,
          { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '204': { description: 'deleted' },
          ...unauthorized,
          '404': errorResponse('no such row'),
          '412': errorResponse('the row changed since that ETag'),
        },
      },
    };
    for (const query of model.queries.values()) {
      fragment.paths[`${basePath}/${model.name}/queries/${query.name}`] = {
        get: {
          tags,
          operationId: `${model.name}_${query.name}`,
          summary: query.description ?? `named query ${query.name}`,
          parameters: [
            ...query.params.map((p) => ({
              name: p.name,
              in: 'query',
              required: p.definition.required === true,
              description: p.definition.description,
              schema: fieldJsonSchema(p.definition, false),
            })),
            {
              name: 'limit',
              in: 'query',
              description: `rows (capped at ${limits.maxLimit})`,
              schema: { type: 'integer', minimum: 0 },
            },
          ],
          responses: {
            '200': { description: 'rows', content: json({ type: 'array', items: { type: 'object' } }) },
            '400': errorResponse('a missing or bad parameter'),
          },
        },
      };
    }
  }
  return fragment;
}
