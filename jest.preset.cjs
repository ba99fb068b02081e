// Shared by every project's jest config: SWC transform (fast, keeps Nest's decorator metadata)
// and the @choreo/* aliases of tsconfig.base.json.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
    '/content-disposition/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // Node 20 loads ESM-only packages through require(); Jest's module loader does not. The one such
  // package the apps reach (content-disposition 3, via @fastify/static for the Swagger UI) is
  // compiled to CommonJS for Jest.
  transformIgnorePatterns: [
    '/node_modules/(?!content-disposition/|@fastify/static/node_modules/content-disposition/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@choreo/([a-z-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
  },
};
