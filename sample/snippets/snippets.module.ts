import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Snippet } from './snippet.entity';
import { SnippetService } from './snippet.service';

@Module({
  imports: [MikroOrmModule.forFeature([Snippet])],
  controllers: [SnippetService],
})
export class SnippetsModule {}
