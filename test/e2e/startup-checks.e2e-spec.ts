import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Controller, Module, Type } from '@nestjs/common';
import { GrpcMethod, GrpcService } from '@nestjs/microservices';
import * as path from 'node:path';
import { Test } from '@nestjs/testing';
import {
  GenericService,
  GrpcFrameworkModule,
  GrpcModelService,
  ImproperlyConfiguredError,
  ListModelMixin,
  ModelService,
  RetrieveModelMixin,
  Service,
} from 'nestjs-grpc-framework';
import { Post } from '../../sample/blog/post.entity';
import { NestDecoratedPostService } from '../fixtures/mistakes.app';
import { PostProtoSerializer } from '../../sample/blog/post.serializer';
import { PROTO_DIR, SAMPLE_PROTOS } from '../../sample/app.module';
import { sampleDatabaseOptions } from '../../sample/database';

async function boot(controllers: Type[], protoPath: string[] = SAMPLE_PROTOS): Promise<void> {
  @Module({
    imports: [
      MikroOrmModule.forRoot({ ...sampleDatabaseOptions(':memory:'), entities: [Post], registerRequestContext: false }),
      GrpcFrameworkModule.forRoot({ protoPath, url: '127.0.0.1:0' }),
    ],
    controllers,
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  moduleRef.useLogger(false);
  try {
    await moduleRef.init();
  } catch (error) {
    // Nest's close() rethrows a failed init without running shutdown hooks: close the ORM here.
    await moduleRef.get(MikroORM).close();
    throw error;
  }
  await moduleRef.close();
}

async function startupError(controllers: Type[], protoPath?: string[]): Promise<string> {
  const error = await boot(controllers, protoPath).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImproperlyConfiguredError);
  return (error as Error).message;
}

describe('start-up checks', () => {
  it('name a controller decorated with GrpcService from @nestjs/microservices, which nothing serves', async () => {
    const message = await startupError([NestDecoratedPostService]);
    expect(message).toContain(
      'NestDecoratedPostService has methods named after the rpcs of blog_proto.PostController (List, Create, Retrieve, Update, Destroy',
    );
    expect(message).toContain("decorate it with @GrpcModelService('blog_proto.PostController') from nestjs-grpc-framework");
  });

  it('leave alone controllers of @nestjs/microservices with @GrpcMethod handlers, and unrelated controllers', async () => {
    @GrpcService()
    class NestGrpcController {
      @GrpcMethod('PostController', 'Retrieve')
      Retrieve(): object {
        return {};
      }
    }
    @Controller()
    class HttpController {
      List(): string[] {
        return [];
      }
    }
    await expect(boot([NestGrpcController, HttpController])).resolves.toBeUndefined();
  });

  it('names an rpc without a handler and the mixin that provides it', async () => {
    @GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
    class ReadOnlyPosts extends ListModelMixin(RetrieveModelMixin(GenericService(Post))) {}
    const message = await startupError([ReadOnlyPosts]);
    expect(message).toContain('ReadOnlyPosts (blog_proto.PostController.Create');
    expect(message).toContain('post.proto');
    expect(message).toContain('rpc Create has no handler. Add a `Create(request, context)` method or compose CreateModelMixin');
    expect(message).toContain('rpc Update has no handler');
    expect(message).toContain('rpc Destroy has no handler');
  });

  it('names UpdateModelMixin for a PartialUpdate without a handler', async () => {
    @GrpcModelService({ service: 'hrm.PersonController', serializer: PostProtoSerializer })
    class ListOnly extends ListModelMixin(GenericService(Post)) {}
    const message = await startupError([ListOnly]);
    expect(message).toContain(
      'rpc PartialUpdate has no handler. Add a `PartialUpdate(request, context)` method or compose UpdateModelMixin (it serves PartialUpdate too)',
    );
  });

  it('names a service missing from the loaded protos and lists the declared ones', async () => {
    @GrpcModelService('blog_proto.PostControler')
    class Typo extends Service {}
    const message = await startupError([Typo]);
    expect(message).toContain('Typo: service "blog_proto.PostControler" is not declared in the loaded protos');
    expect(message).toContain('Declared services: account.UserController, blog_proto.PostController');
  });

  it('asks for a serializer', async () => {
    @GrpcModelService('blog_proto.PostController')
    class NoSerializer extends ModelService(Post) {}
    expect(await startupError([NoSerializer])).toContain(
      'NoSerializer: no serializer. Pass `serializer` to @GrpcModelService({ service, serializer })',
    );
  });

  it('refuses an unknown lookup field', async () => {
    @GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer, lookupField: 'slug' })
    class BadLookup extends ModelService(Post) {}
    expect(await startupError([BadLookup])).toContain('BadLookup: lookupField "slug" is not a property of Post');
  });

  it('refuses an entity MikroORM does not know', async () => {
    class Stranger {
      id!: number;
    }
    @GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
    class StrangerService extends ModelService(Stranger) {}
    expect(await startupError([StrangerService])).toContain('entity Stranger is not known to MikroORM');
  });

  it('refuses a serializer field the entity does not have', async () => {
    const { ModelProtoSerializer } = await import('nestjs-grpc-framework');
    class BadFields extends ModelProtoSerializer(Post, { fields: ['id', 'titel'] }) {}
    @GrpcModelService({ service: 'blog_proto.PostController', serializer: BadFields })
    class BadFieldsService extends ModelService(Post) {}
    expect(await startupError([BadFieldsService])).toContain('"titel" is not a property of entity Post');
  });

  it('refuses serializer fields missing from the message or of incompatible types, and a unary List', async () => {
    @GrpcModelService({ service: 'mismatch.PostController', serializer: PostProtoSerializer })
    class MismatchService extends ModelService(Post) {}
    const message = await startupError([MismatchService], [path.join(__dirname, '..', 'fixtures', 'protos', 'mismatch.proto')]);
    expect(message).toContain(
      'MismatchService (mismatch.PostController, ' +
        path.join(__dirname, '..', 'fixtures', 'protos', 'mismatch.proto') +
        '): serializer PostProtoSerializer field "content" is not in message mismatch.Post.',
    );
    expect(message).toContain('field "title": a string property cannot travel as int32 (use string or google.protobuf.StringValue).');
    expect(message).toContain('List must be server streaming: declare it as `rpc List(PostListRequest) returns (stream Post)`.');
  });

  it('refuses a proto file that does not exist', async () => {
    const error = await boot([], [`${PROTO_DIR}/missing.proto`]).catch((e: Error) => e);
    expect(String(error)).toContain('proto file');
    expect(String(error)).toContain('missing.proto');
  });

  it('starts when everything matches', async () => {
    @GrpcModelService({ service: 'blog_proto.PostController', serializer: PostProtoSerializer })
    class Posts extends ModelService(Post) {}
    await expect(boot([Posts])).resolves.toBeUndefined();
  });
});
