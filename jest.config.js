const net = require('node:net');

// Type-checking is done once by `npm run typecheck`; tests only transpile (isolatedModules).
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^nestjs-grpc-framework$': '<rootDir>/lib/index.ts',
    '^nestjs-grpc-framework/testing$': '<rootDir>/lib/testing/index.ts',
  },
};

const sqlite = {
  ...base,
  displayName: 'sqlite',
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.cli-spec.ts'],
};

const postgres = {
  ...base,
  displayName: 'postgres',
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/e2e/**/*.pg-spec.ts'],
  setupFiles: ['<rootDir>/test/utils/use-postgres.ts'],
};

/** Whether something accepts connections at the PostgreSQL address the suite uses. */
function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 5432), timeout: 2000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Unit tests and the e2e suite on SQLite, then the e2e suite again on PostgreSQL
 * (127.0.0.1:5432 unless TEST_POSTGRES_URL says otherwise; each app gets its own database).
 * Without a reachable PostgreSQL the second project is skipped, with a line saying so, unless
 * TEST_POSTGRES_REQUIRED=1 (set by CI), which makes that an error.
 * @type {() => Promise<import('jest').Config>}
 */
module.exports = async () => {
  const url = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';
  if (await reachable(url)) return { testTimeout: 30000, projects: [sqlite, postgres] };
  const how =
    'set TEST_POSTGRES_URL to a server with trust auth (each test app creates and drops a database of its own), or on ' +
    'Debian/Ubuntu: sudo apt-get install -y postgresql, set the 127.0.0.1 lines of /etc/postgresql/*/main/pg_hba.conf to trust, ' +
    'and restart it (sudo service postgresql restart)';
  if (process.env.TEST_POSTGRES_REQUIRED === '1') {
    throw new Error(`PostgreSQL is not reachable at ${url}, and TEST_POSTGRES_REQUIRED=1: ${how}.`);
  }
  console.log(`PostgreSQL is not reachable at ${url}: running the SQLite suite only. To run the PostgreSQL suite too, ${how}.`);
  return { testTimeout: 30000, projects: [sqlite] };
};
