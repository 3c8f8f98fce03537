import { Max, Min } from 'class-validator';
import { ComputedField, ModelProtoSerializer, ProtoField } from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { Member } from './member.entity';
import { Review } from './review.entity';

export class AuthorSerializer extends ModelProtoSerializer(Author, { fields: ['id', 'name'] }) {}

/**
 * A book sends its author as an `Author` message (loaded with the book: one query per List
 * batch, not one per book) and its average rating, computed for a whole batch of books in one
 * query. It is written with an existing author's key in `author_id`, or with a new author in
 * `author` (`readOnly: false`: a writable nested object, saved with the book, all or nothing).
 */
export class BookSerializer extends ModelProtoSerializer(Book, {
  fields: ['id', 'title', 'isbn', 'author', 'authorId', 'published', 'price', 'inStock'],
  fieldOptions: {
    author: { serializer: AuthorSerializer, readOnly: false },
    authorId: { source: 'author' },
  },
}) {
  @ComputedField({ kind: 'float', nullable: true, batch: true })
  async averageRating(books: readonly Book[]): Promise<(number | null)[]> {
    const reviews = await this.context.em!.find(Review, { book: { $in: books.map((book) => book.id) } }, { fields: ['book', 'rating'], disableIdentityMap: true });
    const ratings = new Map<number, number[]>();
    for (const review of reviews) ratings.set(review.book.id, [...(ratings.get(review.book.id) ?? []), review.rating]);
    return books.map((book) => {
      const stars = ratings.get(book.id);
      return stars ? Math.round((stars.reduce((sum, n) => sum + n, 0) / stars.length) * 100) / 100 : null;
    });
  }
}

/** `member_id` is who wrote the review: the caller, set by `ReviewService`, never by the message. */
export class ReviewSerializer extends ModelProtoSerializer(Review, {
  fields: ['id', 'bookId', 'rating', 'text', 'memberId'],
  fieldOptions: { bookId: { source: 'book' }, memberId: { source: 'member', readOnly: true } },
}) {
  @Min(1, { message: 'A rating is 1 to 5 stars.' })
  @Max(5, { message: 'A rating is 1 to 5 stars.' })
  rating!: number;
}

/**
 * `password` is write-only: validated on the way in, never sent, not even in error details. It
 * is no entity property: `MemberService` hashes it into `passwordHash`, which is never sent either.
 * `is_staff` is read-only: no member makes themself staff through the API.
 */
export class MemberSerializer extends ModelProtoSerializer(Member, { fields: ['id', 'email', 'name', 'isStaff'], readOnlyFields: ['isStaff'] }) {
  @ProtoField({ kind: 'string', writeOnly: true, minLength: 8, maxLength: 128, trim: false })
  password!: string;
}
