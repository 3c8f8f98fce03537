import { status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, Type } from '@nestjs/common';
import { GrpcFrameworkModule, GrpcModelService, ModelService, ProtoSerializer } from 'nestjs-grpc-framework';
import { SAMPLE_PROTOS } from '../../sample/app.module';
import { Post } from '../../sample/blog/post.entity';
import { PostProtoSerializer } from '../../sample/blog/post.serializer';
import { PostService } from '../../sample/blog/post.service';
import { collect, unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { failureOf } from '../utils/status-details';
import { TestDatabase, testDatabase } from '../utils/test-database';

const BLOG_PROTO = SAMPLE_PROTOS[1];
const MAX_SEND = 4000;

/** Its Create stores more than the client sent: the response is only known after the save. */
@GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
class SignedPostService extends ModelService(Post) {
  override async performCreate(serializer: ProtoSerializer<object>): Promise<unknown> {
    return serializer.save({ content: `${serializer.validatedData.content as string}\n${'-- signed '.repeat(500)}` });
  }
}

async function startBlog(controller: Type, database: TestDatabase) {
  @Module({
    imports: [
      MikroOrmModule.forRoot({ ...database.options, entities: [Post] }),
      GrpcFrameworkModule.forRoot({ protoPath: BLOG_PROTO, url: '127.0.0.1:0', maxSendMessageLength: MAX_SEND }),
    ],
    controllers: [controller],
  })
  class BlogAppModule {}
  const running = await startApp(BlogAppModule, BLOG_PROTO);
  await running.app.get(MikroORM).getSchemaGenerator().refreshDatabase();
  return running;
}

// A server that accepted a write must be able to answer it: a write whose response would be
// larger than maxSendMessageLength is refused or rolled back, never stored behind an error.
describe('responses larger than the server sends', () => {
  let database: TestDatabase;
  let running: Awaited<ReturnType<typeof startApp>>;
  const count = () => running.app.get(MikroORM).em.fork().count(Post, {});

  beforeEach(() => {
    database = testDatabase();
  });
  afterEach(async () => {
    await running?.close();
    await database.dispose();
  });

  it('refuse a write before anything is written', async () => {
    running = await startBlog(PostService, database);
    const posts = running.client('blog_proto.PostController');
    const error = await failureOf(unary(posts, 'Create', { title: 't', content: 'x'.repeat(MAX_SEND) }));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toMatch(
      /^The response would be about \d+ bytes, more than this server sends \(maxSendMessageLength 4000\); nothing was written\.$/,
    );
    expect(await count()).toBe(0);
    const small = await unary<{ id: number }>(posts, 'Create', { title: 't', content: 'small' });
    await expect(failureOf(unary(posts, 'Update', { id: small.id, title: 't', content: 'x'.repeat(MAX_SEND) }))).resolves.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    await expect(unary(posts, 'Retrieve', { id: small.id })).resolves.toMatchObject({ content: 'small' });
  });

  it('roll a write back when the response turns out too large after the save', async () => {
    running = await startBlog(SignedPostService, database);
    const posts = running.client('blog_proto.PostController');
    const error = await failureOf(unary(posts, 'Create', { title: 't', content: 'body' }));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toMatch(/^The response would be \d+ bytes, more than this server sends \(maxSendMessageLength 4000\)\.$/);
    expect(await count()).toBe(0);
  });

  it('end a List at a row that cannot be sent, naming it, after sending the rows before it', async () => {
    running = await startBlog(PostService, database);
    const posts = running.client('blog_proto.PostController');
    await unary(posts, 'Create', { title: 'first', content: 'c' });
    const em = running.app.get(MikroORM).em.fork();
    const big = em.create(Post, { title: 'big', content: 'x'.repeat(MAX_SEND) }); // written past the service, as another program might
    await em.flush();
    await unary(posts, 'Create', { title: 'after', content: 'c' });
    const received: string[] = [];
    const stream = posts.List({});
    stream.on('data', (post: { title: string }) => received.push(post.title));
    const error = await new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    expect(received).toEqual(['first']);
    expect(error).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(new RegExp(`^Message 2 \\(id ${big.id}\\) of the stream is \\d+ bytes, more than this server sends`)),
    });
    await expect(unary(posts, 'Retrieve', { id: big.id })).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    await expect(collect(posts, 'List', {})).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });
});
