/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    // Type-checking is done once by `npm run typecheck`; tests only transpile.
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^nestjs-grpc-framework$': '<rootDir>/lib/index.ts',
  },
  testTimeout: 30000,
};
