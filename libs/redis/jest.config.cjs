module.exports = {
  displayName: 'redis',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
