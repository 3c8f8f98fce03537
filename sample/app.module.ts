import type { Options } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import * as path from 'node:path';
import { GrpcFrameworkModule, GrpcFrameworkOptions } from 'nestjs-grpc-framework';
import { AccountModule } from './account/account.module';
import { BlogModule } from './blog/blog.module';
import { BookstoreModule } from './bookstore/bookstore.module';
import { HandwrittenBlogModule } from './blog/handwritten-blog.module';
import { sampleDatabaseOptions } from './database';
import { HrmModule } from './hrm/hrm.module';
import { SchemaSetup } from './schema-setup';
import { SnippetsModule } from './snippets/snippets.module';
import { servePage } from './web/page-server';

// Compiled, this file runs from dist/sample; under jest, from sample.
const PROJECT_ROOT = path.resolve(__dirname, __filename.endsWith('.ts') ? '..' : '../..');
export const PROTO_DIR = path.join(PROJECT_ROOT, 'sample', 'protos');
/** The bundled web page (`npm run build`). */
const PAGE_DIR = path.join(PROJECT_ROOT, 'dist', 'sample', 'web', 'public');
export const SAMPLE_PROTOS = ['account.proto', 'blog_proto/post.proto', 'hrm.proto', 'snippets.proto', 'bookstore.proto'].map((file) =>
  path.join(PROTO_DIR, file),
);

export interface SampleAppOptions {
  /** Address to serve on. @default '127.0.0.1:50051' */
  url?: string;
  /** MikroORM options. @default an SQLite file `sample.sqlite3` */
  database?: Options;
  /** Serve the blog with the tutorial's hand-written `Service` instead of `ModelService`. @default false */
  handwrittenBlog?: boolean;
  /** Address of the web page and of gRPC-Web and Connect calls. @default none */
  web?: string;
  /** Serve the web page's source map too (for debugging it in a browser). @default false */
  pageSourceMaps?: boolean;
  /** Further options of GrpcFrameworkModule.forRoot(). */
  grpc?: Partial<GrpcFrameworkOptions>;
}

/** The sample application: the quickstart, the tutorial and both patterns on one address. */
@Module({})
export class SampleAppModule {
  static register(options: SampleAppOptions = {}): DynamicModule {
    return {
      module: SampleAppModule,
      imports: [
        // Entities come from the feature modules (MikroOrmModule.forFeature).
        MikroOrmModule.forRoot({
          ...(options.database ?? sampleDatabaseOptions()),
          autoLoadEntities: true,
        }),
        GrpcFrameworkModule.forRoot({
          protoPath: SAMPLE_PROTOS,
          url: options.url,
          loader: { includeDirs: [PROTO_DIR] },
          // The page is served from the web address itself: same origin, so no CORS origin to allow.
          ...(options.web ? { web: { url: options.web, fallback: servePage(PAGE_DIR, { sourceMaps: options.pageSourceMaps }) } } : {}),
          ...options.grpc,
        }),
        AccountModule,
        options.handwrittenBlog ? HandwrittenBlogModule : BlogModule,
        HrmModule,
        SnippetsModule,
        BookstoreModule,
      ],
      providers: [SchemaSetup],
    };
  }
}

/** The sample as `grpc-framework runserver --module sample/app.module.ts:AppModule` serves it. */
export const AppModule = SampleAppModule.register();
