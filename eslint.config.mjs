import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * The lib layers (docs/architecture.md). Every lib has one `layer:*` tag in its project.json and may
 * import libs of its own layer or below, never above. A new lib takes the lowest layer whose imports it
 * needs; tools/src/lint/module-boundaries.spec.ts fails for a lib without a layer tag.
 */
const LAYERS = ['layer:0-wire', 'layer:1-base', 'layer:2-edge', 'layer:3-store', 'layer:4-shell'];

/** depConstraints for production code, or (`specs`) for specs and test fixtures, which may add libs/testing. */
function boundaries({ specs }) {
  const testing = specs ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    banTransitiveDependencies: false,
    allow: [],
    depConstraints: [
      // Apps are leaves: they use libs, never other apps.
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
      // Libs never reach into apps or tools; their production code never into libs/testing.
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...testing] },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib'] },
      // Each layer sees itself and the layers below it.
      ...LAYERS.map((layer, index) => ({
        sourceTag: layer,
        onlyDependOnLibsWithTags: [...LAYERS.slice(0, index + 1), ...testing],
      })),
      // The contracts are the bottom of the graph: they import nothing of ours.
      { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [...testing] },
      // The real-time client is bundled into the browser page: the wire contracts only.
      { sourceTag: 'scope:realtime-client', onlyDependOnLibsWithTags: ['scope:contracts', ...testing] },
    ],
  };
}

export default [
  { ignores: ['dist', 'node_modules', '.data', 'tmp', 'coverage', '.nx', '**/*.cjs', '**/*.mjs', '**/*.js'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // In a stream consumer an un-awaited promise is a lost ack.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', boundaries({ specs: false })],
      // A switch over a union names every member (or has a default): a new event type or status
      // cannot fall through unnoticed.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
  {
    // Specs and their fixtures may use libs/testing (real servers); production code may not.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/test-fixtures/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ specs: true })] },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
];
