// What a NestJS user writes today without the framework: a @nestjs/microservices gRPC
// controller with hand-written @GrpcMethod handlers over MikroORM.
import 'reflect-metadata';
import { EntityManager } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, MicroserviceOptions, RpcException, Transport } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import { Post } from '../../sample/blog/post.entity';
import {
  benchDatabase,
  bookMessage,
  BookMessage,
  bookPages,
  BOOKS_PROTO,
  handWrittenPage,
  PAGES_PROTO,
  postPages,
  PageReply,
  PageRequest,
  POST_PROTO,
  PostMessage,
  serveBenchControl,
} from '../common';

serveBenchControl();

const [port, dbFile] = process.argv.slice(2);

@Controller()
class PostController {
  constructor(private readonly em: EntityManager) {}

  @GrpcMethod('PostController', 'Retrieve')
  async retrieve(request: { id: number }): Promise<PostMessage> {
    const post = await this.em.fork().findOne(Post, { id: request.id });
    if (!post) throw new RpcException({ code: status.NOT_FOUND, message: `Post: ${request.id} not found` });
    return { id: post.id, title: post.title, content: post.content };
  }

  @GrpcMethod('PostController', 'Create')
  async create(request: PostMessage): Promise<PostMessage> {
    const em = this.em.fork();
    const post = em.create(Post, { title: (request.title ?? '').trim(), content: (request.content ?? '').trim() });
    await em.persistAndFlush(post);
    return { id: post.id, title: post.title, content: post.content };
  }

  @GrpcMethod('PostController', 'List')
  list(): Observable<PostMessage> {
    return pagesAsObservable(postPages(this.em.fork()), (post: Post) => ({ id: post.id, title: post.title, content: post.content }));
  }
}

@Controller()
class PostPagesController {
  constructor(private readonly em: EntityManager) {}

  @GrpcMethod('PostPages', 'ListPage')
  listPage(request: PageRequest): Promise<PageReply> {
    return handWrittenPage(this.em.fork(), request);
  }
}

@Controller()
class BookListController {
  constructor(private readonly em: EntityManager) {}

  @GrpcMethod('BookList', 'List')
  list(): Observable<BookMessage> {
    return pagesAsObservable(bookPages(this.em.fork()), bookMessage);
  }
}

/** Pages of rows as an Observable of messages, as a NestJS user writes a streaming List: no backpressure. */
function pagesAsObservable<R, M>(pages: AsyncIterable<R[]>, toMessage: (row: R) => M): Observable<M> {
  return new Observable<M>((subscriber) => {
    let stopped = false;
    void (async () => {
      for await (const page of pages) {
        for (const row of page) {
          if (stopped) return;
          subscriber.next(toMessage(row));
        }
      }
      subscriber.complete();
    })().catch((error) => subscriber.error(error));
    return () => (stopped = true);
  });
}

@Module({
  imports: [MikroOrmModule.forRoot({ ...benchDatabase(dbFile), registerRequestContext: false })],
  controllers: [PostController, PostPagesController, BookListController],
})
class NestPlainModule {}

NestFactory.createMicroservice<MicroserviceOptions>(NestPlainModule, {
  transport: Transport.GRPC,
  logger: ['error'],
  options: {
    package: ['blog_proto', 'bench_pages', 'bench_books'],
    protoPath: [POST_PROTO, PAGES_PROTO, BOOKS_PROTO],
    url: `127.0.0.1:${port}`,
    loader: { keepCase: true, defaults: true },
  },
}).then(async (app) => {
  app.enableShutdownHooks();
  await app.listen();
  process.send?.('ready');
});
