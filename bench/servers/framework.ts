// The sample's ModelService, exactly as a user writes it, on the benchmark's database.
import 'reflect-metadata';
import cluster from 'node:cluster';
import * as path from 'node:path';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  BulkCreateModelMixin,
  CreateModelMixin,
  GenericService,
  GrpcFrameworkModule,
  GrpcModelService,
  IsAuthenticated,
  JwtAuthenticator,
  ListModelMixin,
  ModelProtoSerializer,
  PagedListModelMixin,
  RetrieveModelMixin,
} from 'nestjs-grpc-framework';
import { Post } from '../../sample/blog/post.entity';
import { PostProtoSerializer } from '../../sample/blog/post.serializer';
import { PostService } from '../../sample/blog/post.service';
import { Book } from '../../sample/bookstore/book.entity';
import { AuthorSerializer } from '../../sample/bookstore/bookstore.serializers';
import {
  AUTH_PROTO,
  BENCH_JWT_SECRET,
  benchDatabase,
  BOOKS_PROTO,
  BULK_PROTO,
  PAGES_PROTO,
  POST_PROTO,
  RETRIES_PROTO,
  serveBenchControl,
  webAddressOf,
} from '../common';
import { registerTracingSdk } from './tracing-sdk';

serveBenchControl();

const [port, dbFile] = process.argv.slice(2);
/** Run as `framework-metrics.js` or `framework-traced.js`: this server with metrics, or metrics and tracing, on. */
const variant = path.basename(process.argv[1] ?? '', '.js');
const metrics = variant === 'framework-metrics' || variant === 'framework-traced';
const tracing = variant === 'framework-traced';
if (tracing) registerTracingSdk();

/** The paged List, as a user writes it: an allowlist and the mixin. */
@GrpcModelService({ service: 'bench_pages.PostPages', serializer: PostProtoSerializer, filterFields: { title: [':'] } })
class PostPagesService extends PagedListModelMixin(GenericService(Post, { orderBy: { created: 'asc' } })) {}

/** Books with their authors nested, as the bookstore sample's serializer sends them (without its computed rating). */
class BookWithAuthorSerializer extends ModelProtoSerializer(Book, {
  fields: ['id', 'title', 'isbn', 'author', 'authorId', 'published', 'price', 'inStock'],
  fieldOptions: { author: { serializer: AuthorSerializer }, authorId: { source: 'author' } },
}) {}

@GrpcModelService({ service: 'bench_books.BookList', serializer: BookWithAuthorSerializer })
class BookListService extends ListModelMixin(GenericService(Book)) {}

/** The tutorial's Retrieve behind a bearer JWT, verified on every call. */
@GrpcModelService({
  service: 'bench_auth.AuthedPosts',
  serializer: PostProtoSerializer,
  authenticators: [new JwtAuthenticator({ secret: BENCH_JWT_SECRET })],
  permissions: [IsAuthenticated],
})
class AuthedPostService extends RetrieveModelMixin(GenericService(Post)) {}

/** Many posts in one client stream, all written in one transaction (framework only: what the mixin costs against unary Creates). */
@GrpcModelService({ service: 'bench_bulk.PostBulk', serializer: PostProtoSerializer })
class PostBulkService extends BulkCreateModelMixin(GenericService(Post)) {}

/** The tutorial's Create, its request with a request_id: stored with its response for retries. */
@GrpcModelService({ service: 'bench_retries.PostRetries', serializer: PostProtoSerializer })
class PostRetriesService extends CreateModelMixin(GenericService(Post)) {}

@Module({
  imports: [
    MikroOrmModule.forRoot({ ...benchDatabase(dbFile), registerRequestContext: false }),
    GrpcFrameworkModule.forRoot({
      protoPath: [POST_PROTO, PAGES_PROTO, BOOKS_PROTO, AUTH_PROTO, BULK_PROTO, RETRIES_PROTO],
      url: `127.0.0.1:${port}`,
      reflection: false,
      health: false,
      web: { url: webAddressOf(`127.0.0.1:${port}`) },
      ...(metrics ? { metrics: { url: '127.0.0.1:0' } } : {}),
      ...(tracing ? { tracing: true } : {}),
    }),
  ],
  controllers: [PostService, PostPagesService, BookListService, AuthedPostService, PostBulkService, PostRetriesService],
})
class BenchAppModule {}

// BENCH_WORKERS=N serves the port from N processes, as `grpc-framework runserver --workers N` does.
const workers = Number(process.env.BENCH_WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  const forked = Array.from({ length: workers }, () => cluster.fork());
  for (const worker of forked) worker.on('message', () => ++ready === workers && process.send?.('ready'));
  process.on('SIGTERM', () => forked.forEach((worker) => worker.process.kill('SIGTERM')));
} else {
  NestFactory.createApplicationContext(BenchAppModule, { logger: ['error'] }).then((app) => {
    app.enableShutdownHooks();
    process.send?.('ready');
  });
}
