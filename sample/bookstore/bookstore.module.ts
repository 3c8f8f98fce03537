import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorService, BookService, MemberService, ReviewService } from './bookstore.services';
import { Member } from './member.entity';
import { Review } from './review.entity';

@Module({
  imports: [MikroOrmModule.forFeature([Author, Book, Member, Review])],
  controllers: [AuthorService, BookService, MemberService, ReviewService],
})
export class BookstoreModule {}
