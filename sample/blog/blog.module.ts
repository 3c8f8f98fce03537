import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Post } from './post.entity';
import { PostService } from './post.service';

@Module({
  imports: [MikroOrmModule.forFeature([Post])],
  controllers: [PostService],
})
export class BlogModule {}
