import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { HandwrittenPostService } from './handwritten-post.service';
import { Post } from './post.entity';

/** The tutorial's first step: the same PostController written by hand on `Service`. */
@Module({
  imports: [MikroOrmModule.forFeature([Post])],
  controllers: [HandwrittenPostService],
})
export class HandwrittenBlogModule {}
