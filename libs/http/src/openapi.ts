import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';

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
  // An app without authentication (the aggregator) declares no scheme that nothing uses.
  const usesBearer = Object.values(document.paths).some((operations) =>
    Object.values(operations).some((operation) =>
      (operation as Operation).security?.some(
        (requirement) => OPENAPI_BEARER_SCHEME in (requirement as Record<string, unknown>),
      ),
    ),
  );
  if (!usesBearer) delete (document.components as { securitySchemes?: unknown }).securitySchemes;
  return { ...document, servers: [{ url: '/', description: 'this app' }] } as unknown as OpenApiDocument;
}

/**
 * Serves `document` as JSON at `/<jsonPath>` (default openapi.json) and Swagger UI at `/<uiPath>`
 * (default docs). Takes the HTTP adapter rather than the app, so a module can call it from
 * `onModuleInit` with `HttpAdapterHost` (routes added then still precede Nest's 404 handler), and
 * a main.ts with `app.getHttpAdapter()`.
 *
 * The routes and pages are ours rather than SwaggerModule.setup's: loading @nestjs/swagger (with
 * lodash and js-yaml) cost every app serving a document about 5 MB of idle RSS, for a page of a few
 * lines. The UI's assets are swagger-ui-dist's own files (SWAGGER_UI_ASSETS), each read when asked
 * for, with an ETag naming swagger-ui-dist's version; the page fetches the JSON. Not @fastify/static
 * (Nest's useStaticAssets): it served four fixed files and cost every app about 1.2 MB of heap and
 * 33 modules while idle (`npm run bench:footprint`).
 */
export function serveOpenApi(
  httpAdapter: AbstractHttpAdapter,
  document: OpenApiDocument,
  options: { uiPath?: string; jsonPath?: string } = {},
): void {
  const uiPath = `/${options.uiPath ?? 'docs'}`;
  const jsonPath = `/${options.jsonPath ?? 'openapi.json'}`;
  type Reply = {
    type(contentType: string): Reply;
    header(name: string, value: string): Reply;
    send(body: string | Buffer): void;
  };
  const sendAs = (contentType: string, body: () => string) => {
    let text: string | undefined;
    return (_request: unknown, reply: Reply) => reply.type(contentType).send((text ??= body()));
  };
  const json = sendAs('application/json', () => JSON.stringify(document));
  const init = sendAs('application/javascript', () => swaggerUiInit(jsonPath));
  // Asset links are relative: from /docs they need the docs/ segment, from /docs/ they do not.
  const page = sendAs('text/html', () => swaggerUiPage(document.info.title, `.${uiPath}/`));
  const pageWithSlash = sendAs('text/html', () => swaggerUiPage(document.info.title, './'));
  httpAdapter.get(jsonPath, json);
  httpAdapter.get(`${uiPath}/swagger-ui-init.js`, init);
  httpAdapter.get(uiPath, page);
  httpAdapter.get(`${uiPath}/index.html`, pageWithSlash);
  httpAdapter.get(`${uiPath}/`, pageWithSlash);
  // swagger-ui-dist is @nestjs/swagger's dependency: resolved from there, it is found hoisted or not.
  const fromSwagger = createRequire(require.resolve('@nestjs/swagger'));
  const assets = path.dirname(fromSwagger.resolve('swagger-ui-dist/package.json'));
  const { version } = fromSwagger('swagger-ui-dist/package.json') as { version: string };
  for (const [name, contentType] of Object.entries(SWAGGER_UI_ASSETS)) {
    // createHttpApp answers a GET whose If-None-Match holds this ETag with a 304.
    const etag = `"swagger-ui-dist-${version}-${name}"`;
    httpAdapter.get(`${uiPath}/${name}`, async (_request: unknown, reply: Reply) =>
      reply
        .type(contentType)
        .header('etag', etag)
        .header('cache-control', 'public, max-age=86400')
        .send(await readFile(path.join(assets, name))),
    );
  }
}

/** The swagger-ui-dist files the page links (the image keeps only these: docker/Dockerfile). */
const SWAGGER_UI_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function swaggerUiPage(title: string, assets: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" type="text/css" href="${assets}swagger-ui.css">
<link rel="icon" type="image/png" href="${assets}favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assets}swagger-ui-bundle.js"></script>
<script src="${assets}swagger-ui-standalone-preset.js"></script>
<script src="${assets}swagger-ui-init.js"></script>
</body>
</html>
`;
}

function swaggerUiInit(jsonPath: string): string {
  return `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(jsonPath)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;
}
