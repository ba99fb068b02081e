module.exports = {
  displayName: 'http',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
