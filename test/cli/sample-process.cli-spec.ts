import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeClient, unary } from '../utils/sample-app';
import { startSampleProcess } from '../utils/sample-process';

jest.setTimeout(90000);

describe('npm run sample (node dist/sample/main.js)', () => {
  it('serves, and exits 0 on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const sample = await startSampleProcess();
      const posts = makeClient<grpc.Client & Record<string, never>>(sample.address, 'blog_proto.PostController');
      await expect(unary(posts as never, 'Create', { title: 't', content: 'c' })).resolves.toMatchObject({ title: 't' });
      posts.close();
      expect(await sample.stop(signal)).toBe(0);
    }
  });

  it('answers npm run sample:client: the tutorial flow, then the bookstore', async () => {
    const sample = await startSampleProcess();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        path.join(__dirname, '..', '..', 'dist', 'sample', 'client.js'),
        sample.address,
      ]);
      expect(stdout).toContain('----- Delete -----');
      expect(stdout).toMatch(/author: \{ id: \d+, name: 'Ursula K. Le Guin' \}/);
      expect(stdout).toMatch(/title: 'Kindred',[^]*author: \{ id: \d+, name: 'Octavia E. Butler' \}/);
      expect(stdout).toContain('average_rating: 4.5');
      expect(stdout).toMatch(/books: \[\s*\{[^]*title: 'The Lathe of Heaven'[^]*next_page_token: '[^']+'/);
      expect(stdout).toMatch(/email: 'reader\d+@example.com'/);
      expect(stdout).not.toContain('a long enough secret');
    } finally {
      await sample.stop();
    }
  });
});
