import * as grpc from '@grpc/grpc-js';
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
});
