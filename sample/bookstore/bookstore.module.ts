import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorService, BookService } from './bookstore.services';

@Module({
  imports: [MikroOrmModule.forFeature([Author, Book])],
  controllers: [AuthorService, BookService],
})
export class BookstoreModule {}
