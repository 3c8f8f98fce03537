import { useGrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { SampleAppModule } from '../../sample/app.module';
import { Post } from '../../sample/blog/post.entity';
import { sampleDatabaseOptions } from '../../sample/database';

describe('PostService', () => {
  const t = useGrpcTestingApp({ imports: [SampleAppModule.register({ database: sampleDatabaseOptions(':memory:') })] });

  it('creates a post', async () => {
    const stub = t.client('blog_proto.PostController');
    const response = await stub.Create({ title: 'title', content: 'content' });
    expect(response.title).toBe('title');
    expect(response.content).toBe('content');
    expect(await t.em.count(Post)).toBe(1);
  });

  it('lists posts', async () => {
    t.em.create(Post, { title: 'title1', content: 'content1' });
    t.em.create(Post, { title: 'title2', content: 'content2' });
    await t.em.flush();
    const stub = t.client('blog_proto.PostController');
    const postList = await stub.List({}).toArray();
    expect(postList).toHaveLength(2);
  });
});
