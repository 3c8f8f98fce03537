import { rmSync } from 'node:fs';
import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { GRPC_FRAMEWORK_OPTIONS, GrpcFrameworkModule, GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { SAMPLE_PROTOS } from '../../sample/app.module';
import { Post } from '../../sample/blog/post.entity';
import { PostService as MixinPostService } from '../../sample/blog/post-mixins.service';
import { sampleDatabaseOptions } from '../../sample/database';
import { QuickstartAppModule } from '../../sample/quickstart.module';
import { collect, makeClient, unary } from '../utils/sample-app';

describe('README examples', () => {
  it('the quickstart application serves users', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [QuickstartAppModule] })
      .overrideProvider(GRPC_FRAMEWORK_OPTIONS)
      .useValue({ protoPath: ['sample/protos/account.proto'], url: '127.0.0.1:0' })
      .compile();
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      const users = makeClient(`127.0.0.1:${app.get(GrpcFrameworkServer).port}`, 'account.UserController');
      const tom = await unary(users, 'Create', { username: 'tom', email: 'tom@account.com' });
      expect(tom).toMatchObject({ username: 'tom', email: 'tom@account.com', groups: [] });
      expect(await collect(users, 'List', {})).toEqual([tom]);
      users.close();
    } finally {
      await app.close();
      rmSync('quickstart.sqlite3', { force: true });
    }
  });

  it('the PostService composed from mixins serves every rpc of the tutorial', async () => {
    @Module({
      imports: [
        MikroOrmModule.forRoot({ ...sampleDatabaseOptions(':memory:'), registerRequestContext: false }),
        MikroOrmModule.forFeature([Post]),
        GrpcFrameworkModule.forRoot({ protoPath: SAMPLE_PROTOS, url: '127.0.0.1:0' }),
      ],
      controllers: [MixinPostService],
    })
    class MixinAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [MixinAppModule] }).compile();
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      await app.get(MikroORM).getSchemaGenerator().createSchema();
      const posts = makeClient(`127.0.0.1:${app.get(GrpcFrameworkServer).port}`, 'blog_proto.PostController');
      const post = await unary(posts, 'Create', { title: 't', content: 'c' });
      await expect(unary(posts, 'Update', { id: post.id, title: 't2', content: 'c2' })).resolves.toMatchObject({ title: 't2' });
      expect(await collect(posts, 'List', {})).toHaveLength(1);
      await unary(posts, 'Destroy', { id: post.id });
      expect(await app.get(MikroORM).em.fork().count(Post, {})).toBe(0);
      posts.close();
    } finally {
      await app.close();
    }
  });
});
