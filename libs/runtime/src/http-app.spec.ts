import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { createHttpApp } from './http-app';

@Module({})
class EmptyModule {}

// The schema compilers are loaded with Node's own require (from Fastify's directory), so they land in
// Node's module cache, not in Jest's registry.
const nodeCache = createRequire(__filename).cache;
const compilerLoaded = (name: string) => Object.keys(nodeCache).some((file) => file.includes(`/${name}/`));

beforeAll(() => {
  // Another spec in this worker may have loaded them already: start from a cache without them.
  for (const file of Object.keys(nodeCache))
    if (/\/@fastify\/(ajv-compiler|fast-json-stringify-compiler)\//.test(file)) delete nodeCache[file];
});

describe('createHttpApp: Fastify schema compilers on demand', () => {
  it('starts without them, and builds them for the first route that declares a schema', async () => {
    const app = await createHttpApp(EmptyModule, { logger: false });
    try {
      const fastify = app.getHttpAdapter().getInstance();
      await app.init();
      expect(compilerLoaded('@fastify/ajv-compiler')).toBe(false);
      expect(compilerLoaded('@fastify/fast-json-stringify-compiler')).toBe(false);

      // A route added to the instance (a plugin could), with a body and a response schema: validated
      // and serialised exactly as Fastify's default compilers do.
      await fastify.register(async (scope) => {
        scope.post(
          '/schema',
          {
            schema: {
              body: {
                type: 'object',
                required: ['n'],
                properties: { n: { type: 'integer', minimum: 1 } },
              },
              response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
            },
          },
          async (request) => ({ n: (request.body as { n: number }).n, secret: 'not in the schema' }),
        );
      });
      await fastify.ready();
      expect(compilerLoaded('@fastify/ajv-compiler')).toBe(true);
      expect(compilerLoaded('@fastify/fast-json-stringify-compiler')).toBe(true);

      const json = { 'content-type': 'application/json' };
      const ok = await fastify.inject({ method: 'POST', url: '/schema', headers: json, payload: { n: 3 } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ n: 3 });
      const bad = await fastify.inject({ method: 'POST', url: '/schema', headers: json, payload: { n: 0 } });
      expect(bad.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});
