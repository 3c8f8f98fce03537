import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorService, BookService, MemberService } from './bookstore.services';
import { Member } from './member.entity';

@Module({
  imports: [MikroOrmModule.forFeature([Author, Book, Member])],
  controllers: [AuthorService, BookService, MemberService],
})
export class BookstoreModule {}
