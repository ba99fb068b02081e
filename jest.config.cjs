const { getJestProjectsAsync } = require('@nx/jest');

// Unit specs (`*.spec.ts`) of every project, each project with its own jest.config.cjs.
module.exports = async () => ({ projects: await getJestProjectsAsync() });
