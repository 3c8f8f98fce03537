// The sample's ModelService, exactly as a user writes it, on the benchmark's database.
import 'reflect-metadata';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcFrameworkModule } from 'nestjs-grpc-framework';
import { PostService } from '../../sample/blog/post.service';
import { benchDatabase, POST_PROTO } from '../common';

const [port, dbFile] = process.argv.slice(2);

@Module({
  imports: [
    MikroOrmModule.forRoot({ ...benchDatabase(dbFile), registerRequestContext: false }),
    GrpcFrameworkModule.forRoot({ protoPath: POST_PROTO, url: `127.0.0.1:${port}`, reflection: false, health: false }),
  ],
  controllers: [PostService],
})
class BenchAppModule {}

NestFactory.createApplicationContext(BenchAppModule, { logger: ['error'] }).then((app) => {
  app.enableShutdownHooks();
  process.send?.('ready');
});
