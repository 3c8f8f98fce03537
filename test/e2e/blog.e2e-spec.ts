import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Post } from '../../sample/blog/post.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

describe.each([
  ['ModelService', false],
  ['hand-written Service', true],
])('blog_proto.PostController as %s', (_name, handwrittenBlog) => {
  let sample: RunningSample;
  let posts: GrpcClient;

  beforeAll(async () => {
    sample = await startSample({ handwrittenBlog });
    posts = sample.client('blog_proto.PostController');
  });
  afterAll(() => sample.close());
  afterEach(async () => {
    await sample.orm.em.fork().nativeDelete(Post, {});
  });
  const count = () => sample.orm.em.fork().count(Post, {});

  it('runs the tutorial client flow', async () => {
    const created = await unary(posts, 'Create', { title: 't1', content: 'c1' });
    expect(created).toEqual({ id: expect.any(Number), title: 't1', content: 'c1' });
    await expect(collect(posts, 'List', {})).resolves.toEqual([created]);
    await expect(unary(posts, 'Retrieve', { id: created.id })).resolves.toEqual(created);
    const updated = await unary(posts, 'Update', { id: created.id, title: 't2', content: 'c2' });
    expect(updated).toEqual({ id: created.id, title: 't2', content: 'c2' });
    await expect(unary(posts, 'Destroy', { id: created.id })).resolves.toEqual({});
    expect(await count()).toBe(0);
  });

  it('lists posts in creation order', async () => {
    for (const title of ['a', 'b', 'c']) await unary(posts, 'Create', { title, content: title });
    expect((await collect(posts, 'List', {})).map((p) => p.title)).toEqual(['a', 'b', 'c']);
  });

  it('answers NOT_FOUND naming the post for Retrieve, Update and Destroy', async () => {
    for (const [method, request] of [
      ['Retrieve', { id: 5 }],
      ['Update', { id: 5, title: 't', content: 'c' }],
      ['Destroy', { id: 5 }],
    ] as const) {
      await expect(unary(posts, method, request)).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'Post: 5 not found' });
    }
  });

  it('refuses a missing title and content, storing nothing', async () => {
    const error = await failureOf(unary(posts, 'Create', {}));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe('title: This field may not be blank.; content: This field may not be blank.');
    expect(badRequestOf(error).violations.map((v) => v.field)).toEqual(['title', 'content']);
    expect(await count()).toBe(0);
  });

  it('trims strings, counts characters as code points and refuses NUL', async () => {
    const emoji = '😀'.repeat(100); // 100 characters, 200 UTF-16 units
    await expect(unary(posts, 'Create', { title: `  ${emoji}  `, content: ' body ' })).resolves.toMatchObject({
      title: emoji,
      content: 'body',
    });
    const tooLong = await failureOf(unary(posts, 'Create', { title: `${emoji}x`, content: 'c' }));
    expect(badRequestOf(tooLong).violations).toEqual([
      expect.objectContaining({ field: 'title', description: 'Ensure this field has no more than 100 characters.' }),
    ]);
    const nul = await failureOf(unary(posts, 'Create', { title: 'a\u0000b', content: 'c' }));
    expect(badRequestOf(nul).violations).toEqual([
      expect.objectContaining({ field: 'title', description: 'Null characters are not allowed.' }),
    ]);
    expect(await count()).toBe(1);
  });

  it('limits text without a column length to 262,144 characters by default', async () => {
    const longest = 'é'.repeat(262_144);
    await expect(unary(posts, 'Create', { title: 't', content: longest })).resolves.toMatchObject({ title: 't' });
    const tooLong = await failureOf(unary(posts, 'Create', { title: 't', content: `${longest}x` }));
    expect(tooLong.details).toBe('content: Ensure this field has no more than 262144 characters.');
    expect(await count()).toBe(1);
  });

  it('ignores a read-only id sent on create', async () => {
    const created = await unary(posts, 'Create', { id: 777, title: 't', content: 'c' });
    expect(created.id).not.toBe(777);
  });

  it('keeps the stored post when an update is invalid', async () => {
    const post = await unary(posts, 'Create', { title: 'keep', content: 'me' });
    await expect(unary(posts, 'Update', { id: post.id, title: '', content: 'x' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(unary(posts, 'Retrieve', { id: post.id })).resolves.toEqual(post);
  });
});

describe('List streaming over a large table', () => {
  let sample: RunningSample;
  let posts: GrpcClient;
  const ROWS = 10_000;
  // MikroORM's query log shows every statement, prepared ones included.
  let logged: string[] | undefined;

  beforeAll(async () => {
    sample = await startSample({ database: { debug: ['query'], logger: (line: string) => logged?.push(line) } });
    posts = sample.client('blog_proto.PostController');
    const em = sample.orm.em.fork();
    const start = Date.parse('2024-01-01T00:00:00Z');
    for (let offset = 0; offset < ROWS; offset += 1000) {
      const rows = Array.from({ length: 1000 }, (_, j) => {
        const i = offset + j;
        // Groups of three share a timestamp, so the id has to break ties.
        return { title: `post ${i}`, content: `content ${i}`, created: new Date(start + Math.floor(i / 3) * 1000) };
      });
      await em.insertMany(Post, rows);
    }
  });
  afterAll(() => sample.close());

  it('streams 10,000 rows in creation order, each exactly once', async () => {
    const listed = await collect<{ id: number; title: string }>(posts, 'List', {});
    expect(listed).toHaveLength(ROWS);
    expect(listed.map((p) => p.title)).toEqual(Array.from({ length: ROWS }, (_, i) => `post ${i}`));
    expect(new Set(listed.map((p) => p.id)).size).toBe(ROWS);
  });

  it('stops reading when the client cancels', async () => {
    logged = [];
    try {
      const call: grpc.ClientReadableStream<unknown> = posts.List({});
      let received = 0;
      await new Promise<void>((resolve) => {
        call.on('data', () => {
          if (++received === 10) {
            call.cancel();
            resolve();
          }
        });
        call.on('error', () => undefined);
      });
      // A call on the same connection is read after the cancellation (HTTP/2 frames arrive in
      // order): once it is answered, the server has seen the cancel and stopped starting reads.
      await unary(posts, 'Retrieve', { id: 1 }).catch(() => undefined);
      // 20 batches would be read to the end; a cancelled call stops after the few in flight.
      const selects = logged.filter((line) => /select/.test(line) && line.includes('blog_post'));
      expect(selects.length).toBeGreaterThan(0);
      expect(selects.length).toBeLessThan(ROWS / 500);
    } finally {
      logged = undefined;
    }
  });
});
