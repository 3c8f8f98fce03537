import { status } from '@grpc/grpc-js';
import { collect, GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';
import { TEST_DB } from '../utils/test-database';

describe('blog_proto.PostController (ModelService)', () => {
  let sample: RunningSample;
  let posts: GrpcClient;

  beforeAll(async () => {
    sample = await startSample();
    posts = sample.client('blog_proto.PostController');
  });
  afterAll(() => sample.close());

  it(`runs on ${TEST_DB}`, () => {
    const platform = sample.orm.em.getPlatform().constructor.name;
    expect(platform).toBe(TEST_DB === 'postgres' ? 'PostgreSqlPlatform' : 'BetterSqlitePlatform');
  });

  it('creates, lists, retrieves, updates and destroys a post', async () => {
    const created = await unary(posts, 'Create', { title: 't1', content: 'c1' });
    expect(created).toEqual({ id: expect.any(Number), title: 't1', content: 'c1' });
    const listed = await collect(posts, 'List', {});
    expect(listed).toEqual([created]);
    await expect(unary(posts, 'Retrieve', { id: created.id })).resolves.toEqual(created);
    const updated = await unary(posts, 'Update', { id: created.id, title: 't2', content: 'c2' });
    expect(updated).toEqual({ id: created.id, title: 't2', content: 'c2' });
    await expect(unary(posts, 'Destroy', { id: created.id })).resolves.toEqual({});
    await expect(unary(posts, 'Retrieve', { id: created.id })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `Post: ${created.id} not found`,
    });
  });
});
