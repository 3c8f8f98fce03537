import {
  AllowAny,
  BulkCreateModelMixin,
  GrpcAction,
  GrpcModelService,
  IsAuthenticated,
  IsAuthenticatedOrReadOnly,
  ModelService,
  PagedListModelMixin,
  ProtoSerializer,
  Queryset,
} from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { bookstoreAuthenticator, BookstoreUser, IsOwnerOrStaff, IsSelfOrStaff, IsStaffOrReadOnly } from './bookstore-auth';
import { AuthorSerializer, BookSerializer, DiscountRequestSerializer, MemberSerializer, ReviewSerializer } from './bookstore.serializers';
import { Member } from './member.entity';
import { Review } from './review.entity';
import { hashPassword } from './password';
import type { AuthorController, BookController, MemberController, ReviewController } from '../types/bookstore';

// Every bookstore service reads the caller from a bearer token (`AuthController.Login` issues
// it); the other sample services have no authentication.
const authenticators = [bookstoreAuthenticator];

/** Anyone may read the catalogue; only staff may change it. */
@GrpcModelService({ service: 'bookstore.AuthorController', serializer: AuthorSerializer, authenticators, permissions: [IsStaffOrReadOnly] })
export class AuthorService extends ModelService(Author) implements AuthorController {}

/**
 * Books can be filtered, ordered and paged: as a stream (`List`, the next page's token in the
 * trailing metadata `next-page-token`) or one page per response (`ListPage`); staff add many
 * at once with `BulkCreate`, and take a percentage off a price with `Discount`.
 */
@GrpcModelService({
  service: 'bookstore.BookController',
  serializer: BookSerializer,
  authenticators,
  permissions: [IsStaffOrReadOnly],
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
export class BookService extends BulkCreateModelMixin(PagedListModelMixin(ModelService(Book))) implements BookController {
  /** A custom action: the request validated by its serializer, the book sent back as Retrieve sends it. */
  @GrpcAction({ request: DiscountRequestSerializer, response: BookSerializer, http: { post: '/v1/books/{id}:discount', body: '*' } })
  async Discount({ percent }: { percent: number }): Promise<Book> {
    return this.atomically(async () => {
      const book = await this.getObject(); // the request's `id`, locked until the write commits
      const cents = Math.round(Number(book.price) * 100);
      book.price = (Math.round((cents * (100 - percent)) / 100) / 100).toFixed(2);
      await this.em.flush();
      return book;
    });
  }
}

/**
 * Members: anyone may sign up (Create); a member sees and changes only themself, staff everyone.
 * The password arrives, is hashed with scrypt before it is stored, and never leaves.
 */
@GrpcModelService({
  service: 'bookstore.MemberController',
  serializer: MemberSerializer,
  authenticators,
  permissions: { default: [IsAuthenticated, IsSelfOrStaff], Create: [AllowAny] },
})
export class MemberService extends ModelService(Member) implements MemberController {
  /** List shows a member only themself; staff, every member. */
  override getQueryset(): Queryset<Member> {
    const queryset = super.getQueryset();
    const user = this.user as BookstoreUser;
    return this.action !== 'List' || user.isStaff ? queryset : { ...queryset, where: { $and: [queryset.where, { id: user.id }] } };
  }

  override async performCreate(serializer: ProtoSerializer<Member>): Promise<Member> {
    const { password } = serializer.validatedData as { password: string };
    return serializer.save({ passwordHash: await hashPassword(password) });
  }

  override async performUpdate(serializer: ProtoSerializer<Member>): Promise<Member> {
    const { password } = serializer.validatedData as { password?: string };
    return serializer.save(password === undefined ? {} : { passwordHash: await hashPassword(password) });
  }
}

/** Anyone may read reviews; a member writes them, and only their author (or staff) may change one. */
@GrpcModelService({
  service: 'bookstore.ReviewController',
  serializer: ReviewSerializer,
  authenticators,
  permissions: [IsAuthenticatedOrReadOnly, IsOwnerOrStaff],
})
export class ReviewService extends ModelService(Review) implements ReviewController {
  override performCreate(serializer: ProtoSerializer<Review>): Promise<Review> {
    return serializer.save({ member: this.em.getReference(Member, (this.user as BookstoreUser).id) });
  }
}
