import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const UNREACHABLE = 'postgresql://postgres@127.0.0.1:1';

// `npm test` on a machine without PostgreSQL: the SQLite suite runs, the PostgreSQL one is
// skipped with one line saying how to enable it; CI (TEST_POSTGRES_REQUIRED=1) fails instead.
describe('the test suite without PostgreSQL', () => {
  const listTests = (env: NodeJS.ProcessEnv) =>
    promisify(execFile)(process.execPath, [JEST, '--listTests'], {
      cwd: ROOT,
      env: { ...process.env, TEST_POSTGRES_URL: UNREACHABLE, TEST_POSTGRES_REQUIRED: '', ...env },
    });

  it('runs the SQLite project only and says how to add PostgreSQL', async () => {
    const { stdout } = await listTests({});
    const [notice, ...tests] = stdout.trim().split('\n');
    expect(notice).toContain(`PostgreSQL is not reachable at ${UNREACHABLE}: running the SQLite suite only`);
    expect(notice).toContain('set TEST_POSTGRES_URL');
    expect(tests.some((file) => file.endsWith('.pg-spec.ts'))).toBe(false);
    expect(tests.some((file) => file.endsWith('blog.e2e-spec.ts'))).toBe(true);
  });

  it('fails when PostgreSQL is required', async () => {
    const error = await listTests({ TEST_POSTGRES_REQUIRED: '1' }).catch((e) => e);
    expect(error.code).toBe(1);
    expect(error.stderr).toContain(`PostgreSQL is not reachable at ${UNREACHABLE}, and TEST_POSTGRES_REQUIRED=1`);
  });
});
