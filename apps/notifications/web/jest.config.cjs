module.exports = {
  displayName: 'live-page',
  preset: '../../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
