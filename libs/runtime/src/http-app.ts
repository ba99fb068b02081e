import {
  BadRequestException,
  DynamicModule,
  NestApplicationOptions,
  Type,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { createRequire } from 'node:module';
import { MAX_JSON_DEPTH, installRefusals, jsonDepthExceeds } from './http-refusals';

/** `application/json` or a `+json` type such as `application/merge-patch+json`. */
const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json$/i;

/** Whether a Content-Type header declares a body this platform parses (JSON_TYPE, any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  return JSON_TYPE.test((header ?? '').split(';')[0].trim());
}

export interface HttpAppOptions extends Omit<NestApplicationOptions, 'bodyParser'> {
  /** Larger bodies get 413 (default 1 MiB). */
  bodyLimitBytes?: number;
}

/**
 * Whether a GET's `If-None-Match` names the response's ETag (weak comparison, RFC 9110 §13.1.2), so
 * the answer is 304 without a body.
 */
function notModified(ifNoneMatch: string | undefined, etag: string | undefined): boolean {
  if (!ifNoneMatch || !etag) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(etag));
}

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/**
 * Fastify's own schema compilers (ajv with its formats, and fast-json-stringify), built when a route
 * first declares a schema instead of when Fastify starts: about 250 modules and 2.6 MB of heap that
 * every app loaded for nothing, since no choreo route declares a Fastify schema (bodies are checked by
 * Nest pipes and libs/entities' zod schemas). `npm run bench:footprint` measures an idle app. The
 * compilers are the ones Fastify would pick, resolved from Fastify itself.
 */
function schemaCompilersOnDemand(): CompilersFactory {
  const fromFastify = createRequire(require.resolve('fastify'));
  // A factory takes (external schemas, options) and returns a compiler; each is built once, on first use.
  type Factory = (schemas: unknown, options: unknown) => unknown;
  const onDemand = (load: () => Factory): Factory => {
    let factory: Factory | undefined;
    return (schemas, options) => (factory ??= load())(schemas, options);
  };
  return {
    buildValidator: onDemand(() => (fromFastify('@fastify/ajv-compiler') as () => Factory)()),
    buildSerializer: onDemand(() =>
      (
        fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => Factory }
      ).SerializerSelector(),
    ),
  } as CompilersFactory;
}

/**
 * A Nest application on Fastify that reads JSON bodies only: `application/json` and `+json` types,
 * parsed with Fastify's prototype-poisoning-safe parser, an empty one read as no body (clients send
 * `Content-Type: application/json` on a bodiless DELETE or action). Any other body is a 415 before a
 * handler runs, a body over the limit a 413, a body nested deeper than MAX_JSON_DEPTH a 400; a method
 * a path does not serve is a 405 with `Allow` (see installRefusals). A GET whose `If-None-Match` holds the ETag gets a 304.
 * Every choreo HTTP app, and every spec that mounts a module over HTTP, is built here, so tests run
 * on the platform production runs.
 *
 * Fastify rather than Express: the REST paths are measured against a bare `node:http` handler
 * (`npm run bench:crud`), and Express's request/response layer cost more CPU per request than
 * the handler's own work.
 */
export async function createHttpApp(
  module: Type | DynamicModule,
  { bodyLimitBytes, ...options }: HttpAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: bodyLimitBytes ?? 1024 * 1024,
    schemaController: { compilersFactory: schemaCompilersOnDemand() },
  });
  // bodyParser false: Nest would add form bodies (@fastify/formbody) and its own JSON parser.
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    ...options,
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  // Refusals are HttpExceptions with our codes: Nest would turn Fastify's own errors into bare
  // "Bad Request" / "Unsupported Media Type" answers before the app's exception filter sees them.
  fastify.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (request, body: string, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    if (jsonDepthExceeds(body)) {
      done(
        new BadRequestException({
          error: 'json_too_deep',
          message: `the body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
        }),
        undefined,
      );
      return;
    }
    void parseJson(request, body, (error, parsed) => {
      if (!error) done(null, parsed);
      else
        done(
          new BadRequestException({
            error: 'invalid_json',
            message: `the body is not JSON: ${error.message}`,
          }),
          undefined,
        );
    });
  });
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const type = request.headers['content-type'] ?? 'none';
    done(
      new UnsupportedMediaTypeException(
        `the body must be JSON (Content-Type: application/json), not ${type}`,
      ),
      undefined,
    );
  });
  installRefusals(fastify);
  fastify.addHook('onSend', (request: FastifyRequest, reply, payload, done) => {
    const conditional = (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode === 200;
    if (conditional && notModified(request.headers['if-none-match'], reply.getHeader('etag') as string)) {
      void reply.code(304);
      done(null, '');
      return;
    }
    done(null, payload);
  });
  return app;
}
