const preset = require('./jest.preset.cjs');

// Integration specs (`*.int-spec.ts`) against real Redis and PostgreSQL that each spec file starts
// for itself through libs/testing. Two workers: the machine has two cores.
module.exports = {
  ...preset,
  displayName: 'integration',
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools'],
  testMatch: ['**/*.int-spec.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
  slowTestThreshold: 30,
  globalSetup: '<rootDir>/tools/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/tools/jest/global-teardown.cjs',
};
