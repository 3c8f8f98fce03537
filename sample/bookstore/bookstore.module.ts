import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorService, BookService, MemberService, ReviewService } from './bookstore.services';
import { LoginService } from './login.service';
import { Member } from './member.entity';
import { Review } from './review.entity';
import { StaffMember } from './staff-member';

@Module({
  imports: [MikroOrmModule.forFeature([Author, Book, Member, Review])],
  controllers: [LoginService, AuthorService, BookService, MemberService, ReviewService],
  providers: [StaffMember],
})
export class BookstoreModule {}
