import type { INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export type OpenApiDocument = OpenAPIObject;

/** A JSON Schema (OpenAPI 3.1 dialect) object. */
export type JsonSchema = { [key: string]: unknown };

/** Paths and component schemas to merge into an OpenAPI 3.1 document with `createOpenApiDocument`. */
export interface OpenApiFragment {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
  tags?: { name: string; description?: string }[];
}

/** Names the error body schema and the bearer security scheme every document declares. */
export const OPENAPI_ERROR_SCHEMA = '#/components/schemas/Error';
export const OPENAPI_BEARER_SCHEME = 'bearer';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: {
      type: 'string',
      description: 'stable code: validation_failed, not_found, unique_violation, precondition_failed, …',
    },
    message: { type: 'string' },
    issues: {
      type: 'array',
      description: 'for a 400: each bad field and what is wrong with it',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
    field: { type: 'string', description: 'for a 409: the unique field whose value is taken' },
  },
};

type Operation = {
  summary?: string;
  security?: unknown[];
  requestBody?: unknown;
  parameters?: { in?: string }[];
  responses: Record<string, { description?: string; content?: unknown; headers?: Record<string, unknown> }>;
};

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: OPENAPI_ERROR_SCHEMA } } },
});

/**
 * What every operation answers beyond what its fragment says, filled in so each lists every status
 * it can return: the platform's refusals of a body (400, 413, 415), of a path parameter (400), a 304
 * for a conditional GET, a 429 from the rate limiter; a summary, and `security: []` on public reads.
 */
function completeOperation(method: string, path: string, operation: Operation): void {
  operation.summary ??= `${method.toUpperCase()} ${path}`;
  operation.security ??= [];
  const responses = operation.responses;
  const add = (status: string, description: string) => {
    responses[status] ??= errorAnswer(description);
  };
  if (operation.requestBody) {
    add('400', 'the body is not JSON, nests too deep, or is invalid (each field named)');
    add('413', 'the body is over the limit');
    add('415', 'the body is not application/json');
  }
  if (operation.parameters?.some((p) => p.in === 'path') || path.includes('{'))
    add('400', 'a malformed path parameter, named');
  if (method === 'get' && Object.values(responses).some((r) => r.headers?.['ETag']))
    responses['304'] ??= { description: 'not modified: If-None-Match holds the current ETag' };
  add('429', 'over the rate limit of this caller and route group; see Retry-After');
}

/**
 * An OpenAPI 3.1 document with the shared error body and bearer scheme, merging `fragments`
 * (e.g. `entitiesOpenApi(catalog, '/crud')` and an app's own routes).
 */
export function createOpenApiDocument(info: OpenApiInfo, ...fragments: OpenApiFragment[]): OpenApiDocument {
  const document = {
    openapi: '3.1.0',
    info,
    paths: {} as Record<string, Record<string, unknown>>,
    tags: [] as { name: string; description?: string }[],
    components: {
      schemas: { Error: ERROR_SCHEMA } as Record<string, unknown>,
      securitySchemes: {
        [OPENAPI_BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'a token from API_TOKENS' },
      },
    },
  };
  for (const fragment of fragments) {
    for (const [path, operations] of Object.entries(fragment.paths)) {
      document.paths[path] = { ...(document.paths[path] ?? {}), ...operations };
    }
    Object.assign(document.components.schemas, fragment.components.schemas);
    for (const tag of fragment.tags ?? [])
      if (!document.tags.some((t) => t.name === tag.name)) document.tags.push(tag);
  }
  for (const [path, operations] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(operations))
      completeOperation(method, path, operation as Operation);
  return { ...document, servers: [{ url: '/', description: 'this app' }] } as unknown as OpenApiDocument;
}

/**
 * Serves `document` as JSON at `/<jsonPath>` (default openapi.json) and Swagger UI at `/<uiPath>`
 * (default docs). Takes the HTTP adapter rather than the app, so a module can call it from
 * `onModuleInit` with `HttpAdapterHost` (routes added then still precede Nest's 404 handler), and
 * a main.ts with `app.getHttpAdapter()`.
 */
export function serveOpenApi(
  httpAdapter: AbstractHttpAdapter,
  document: OpenApiDocument,
  options: { uiPath?: string; jsonPath?: string } = {},
): void {
  // SwaggerModule.setup needs only these two members of the application (no global prefix here).
  const app = {
    getHttpAdapter: () => httpAdapter,
    // Express takes (path, options), Fastify one options object: pass through whatever it is given.
    useStaticAssets: (...args: unknown[]) =>
      (httpAdapter.useStaticAssets as (...given: unknown[]) => unknown).apply(httpAdapter, args),
  } as unknown as INestApplication;
  SwaggerModule.setup(options.uiPath ?? 'docs', app, document, {
    jsonDocumentUrl: options.jsonPath ?? 'openapi.json',
    raw: ['json'],
    customSiteTitle: document.info.title,
  });
}
