/**
 * One jest run for the whole repository. Tests are transpiled by @swc/jest (fast, and independent of
 * the TypeScript version); type-checking is `npm run typecheck` (tsc), run by `npm test` first.
 * `@ticketing/common` resolves to its sources so a test never runs against a stale build.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/common/src',
    '<rootDir>/client/src',
    '<rootDir>/web/src',
    '<rootDir>/tickets/src',
    '<rootDir>/orders/src',
    '<rootDir>/scripts/src',
    '<rootDir>/infra/test',
  ],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleNameMapper: {
    '^@ticketing/common$': '<rootDir>/common/src/index.ts',
    '^@ticketing/common/testing$': '<rootDir>/common/src/testing/index.ts',
    '^@ticketing/common/tracing$': '<rootDir>/common/src/tracing/index.ts',
    '^@ticketing/client$': '<rootDir>/client/src/index.ts',
  },
  // Real servers are started per test file; keep two workers on a 2-core machine.
  globalSetup: '<rootDir>/common/src/testing/jest-global-setup.ts',
  globalTeardown: '<rootDir>/common/src/testing/jest-global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 30000,
};
