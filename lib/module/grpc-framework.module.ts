import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { GrpcFrameworkServer } from './grpc-framework.server';
import { GrpcFrameworkConfigurableModule } from './grpc-framework.module-definition';

/**
 * Serves every `@GrpcModelService` / `@GrpcService` controller of the application over gRPC.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     MikroOrmModule.forRoot({ ... }),
 *     GrpcFrameworkModule.forRoot({ protoPath: ['protos/blog_proto/post.proto'] }),
 *   ],
 *   controllers: [PostService],
 * })
 * export class AppModule {}
 * ```
 *
 * The server starts when the application bootstraps (`app.init()`) and stops, letting calls
 * in flight finish, when it closes. Use `forRootAsync({ useFactory, inject })` to build the
 * options from other providers.
 *
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [GrpcFrameworkServer],
  exports: [GrpcFrameworkServer],
})
export class GrpcFrameworkModule extends GrpcFrameworkConfigurableModule {}
