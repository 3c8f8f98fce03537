import { GrpcModelService, ModelService, PagedListModelMixin, ProtoSerializer } from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorSerializer, BookSerializer, MemberSerializer, ReviewSerializer } from './bookstore.serializers';
import { Member } from './member.entity';
import { Review } from './review.entity';
import { hashPassword } from './password';

@GrpcModelService({ service: 'bookstore.AuthorController', serializer: AuthorSerializer })
export class AuthorService extends ModelService(Author) {}

/**
 * Books can be filtered, ordered and paged: as a stream (`List`, the next page's token in the
 * trailing metadata `next-page-token`) or one page per response (`ListPage`).
 */
@GrpcModelService({
  service: 'bookstore.BookController',
  serializer: BookSerializer,
  filterFields: {
    title: ['=', '!=', ':'],
    isbn: ['='],
    author_id: ['=', '!='],
    published: ['=', '<', '<=', '>', '>='],
    price: ['=', '<', '<=', '>', '>='],
    in_stock: ['='],
  },
  orderingFields: ['title', 'published', 'price', 'id'],
  maxPageSize: 1000,
  defaultPageSize: 50,
  countTotal: true,
})
export class BookService extends PagedListModelMixin(ModelService(Book)) {}

/** Members: the password arrives, is hashed with scrypt before it is stored, and never leaves. */
@GrpcModelService({ service: 'bookstore.MemberController', serializer: MemberSerializer })
export class MemberService extends ModelService(Member) {
  override async performCreate(serializer: ProtoSerializer<Member>): Promise<Member> {
    const { password } = serializer.validatedData as { password: string };
    return serializer.save({ passwordHash: await hashPassword(password) });
  }

  override async performUpdate(serializer: ProtoSerializer<Member>): Promise<Member> {
    const { password } = serializer.validatedData as { password?: string };
    return serializer.save(password === undefined ? {} : { passwordHash: await hashPassword(password) });
  }
}

@GrpcModelService({ service: 'bookstore.ReviewController', serializer: ReviewSerializer })
export class ReviewService extends ModelService(Review) {}
