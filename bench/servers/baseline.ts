// Hand-written @grpc/grpc-js handlers doing the same work through MikroORM: a forked
// EntityManager per call, validation by hand, List streamed in pages with backpressure.
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MikroORM } from '@mikro-orm/core';
import { once } from 'node:events';
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

const toMessage = (post: Post): PostMessage => ({ id: post.id, title: post.title, content: post.content });

/** Writes pages of rows as messages, waiting for the client when its buffer is full; stops when it cancels. */
async function streamPages<R, M>(
  call: grpc.ServerWritableStream<object, M>,
  pages: AsyncIterable<R[]>,
  toMessage: (row: R) => M,
): Promise<void> {
  try {
    for await (const page of pages) {
      for (const row of page) {
        if (call.cancelled) return;
        if (!call.write(toMessage(row))) await once(call, 'drain');
      }
    }
    call.end();
  } catch {
    call.emit('error', { code: grpc.status.INTERNAL, details: 'Internal server error' });
  }
}

async function main(): Promise<void> {
  const orm = await MikroORM.init(benchDatabase(dbFile));
  const definition = protoLoader.loadSync(POST_PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    blog_proto: { PostController: { service: grpc.ServiceDefinition } };
  };
  const server = new grpc.Server();
  server.addService(pkg.blog_proto.PostController.service, {
    async Retrieve(call: grpc.ServerUnaryCall<{ id: number }, PostMessage>, callback: grpc.sendUnaryData<PostMessage>) {
      try {
        const post = await orm.em.fork().findOne(Post, { id: call.request.id });
        if (!post) return callback({ code: grpc.status.NOT_FOUND, details: `Post: ${call.request.id} not found` });
        callback(null, toMessage(post));
      } catch {
        callback({ code: grpc.status.INTERNAL, details: 'Internal server error' });
      }
    },
    async Create(call: grpc.ServerUnaryCall<PostMessage, PostMessage>, callback: grpc.sendUnaryData<PostMessage>) {
      const title = (call.request.title ?? '').trim();
      const content = (call.request.content ?? '').trim();
      if (!title || [...title].length > 100 || !content) {
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'title/content invalid' });
      }
      try {
        const em = orm.em.fork();
        const post = em.create(Post, { title, content });
        await em.persistAndFlush(post);
        callback(null, toMessage(post));
      } catch {
        callback({ code: grpc.status.INTERNAL, details: 'Internal server error' });
      }
    },
    List: (call: grpc.ServerWritableStream<object, PostMessage>) => streamPages(call, postPages(orm.em.fork()), toMessage),
    Update: (_call: unknown, callback: grpc.sendUnaryData<PostMessage>) => callback({ code: grpc.status.UNIMPLEMENTED }),
    Destroy: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback({ code: grpc.status.UNIMPLEMENTED }),
  });
  const books = grpc.loadPackageDefinition(protoLoader.loadSync(BOOKS_PROTO, { keepCase: true, defaults: true })) as unknown as {
    bench_books: { BookList: { service: grpc.ServiceDefinition } };
  };
  server.addService(books.bench_books.BookList.service, {
    List: (call: grpc.ServerWritableStream<object, BookMessage>) => streamPages(call, bookPages(orm.em.fork()), bookMessage),
  });
  const pages = grpc.loadPackageDefinition(protoLoader.loadSync(PAGES_PROTO, { keepCase: true, defaults: true })) as unknown as {
    bench_pages: { PostPages: { service: grpc.ServiceDefinition } };
  };
  server.addService(pages.bench_pages.PostPages.service, {
    async ListPage(call: grpc.ServerUnaryCall<PageRequest, PageReply>, callback: grpc.sendUnaryData<PageReply>) {
      try {
        callback(null, await handWrittenPage(orm.em.fork(), call.request));
      } catch {
        callback({ code: grpc.status.INTERNAL, details: 'Internal server error' });
      }
    },
  });
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), () => process.send?.('ready'));
  process.on('SIGTERM', () => server.tryShutdown(() => orm.close().then(() => process.exit(0))));
}

void main();
