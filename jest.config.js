// Type-checking is done once by `npm run typecheck`; tests only transpile (isolatedModules).
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^nestjs-grpc-framework$': '<rootDir>/lib/index.ts',
    '^nestjs-grpc-framework/testing$': '<rootDir>/lib/testing/index.ts',
  },
};

/**
 * Unit tests and the e2e suite on SQLite, then the e2e suite again on PostgreSQL
 * (127.0.0.1:5432 unless TEST_POSTGRES_URL says otherwise; each app gets its own database).
 * @type {import('jest').Config}
 */
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...base,
      displayName: 'sqlite',
      testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.cli-spec.ts'],
    },
    {
      ...base,
      displayName: 'postgres',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/e2e/**/*.pg-spec.ts'],
      setupFiles: ['<rootDir>/test/utils/use-postgres.ts'],
    },
  ],
};
