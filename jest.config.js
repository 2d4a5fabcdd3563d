/** Unit tests need nothing; integration tests share one real stack (see test/integration/global-setup.ts). */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      // examples/ import the package by name, as users do
      moduleNameMapper: { '^optflow$': '<rootDir>/src/index.ts' },
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      slowTestThreshold: 60,
      // each integration test drives a real broker and child processes: generous per-test budget
    },
  ],
  testTimeout: 300000,
};
