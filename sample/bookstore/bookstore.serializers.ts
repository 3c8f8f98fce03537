import { raw } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Max, Min } from 'class-validator';
import { ComputedField, ModelProtoSerializer, ProtoField, ProtoSerializer } from 'nestjs-grpc-framework';
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
    // One aggregate for the batch: the database averages, however many reviews a book has.
    const rows = await (this.context.em as SqlEntityManager)
      .createQueryBuilder(Review, 'r')
      .select(['r.book', raw('avg(r.rating) as average')])
      .where({ book: { $in: books.map((book) => book.id) } })
      .groupBy('r.book')
      .execute<{ book: number; average: number | string }[]>('all');
    const averages = new Map(rows.map((row) => [Number(row.book), Number(row.average)]));
    return books.map((book) => {
      const average = averages.get(book.id);
      return average === undefined ? null : Math.round(average * 100) / 100;
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
export class MemberSerializer extends ModelProtoSerializer(Member, {
  fields: ['id', 'email', 'name', 'isStaff'],
  readOnlyFields: ['isStaff'],
}) {
  @ProtoField({ kind: 'string', writeOnly: true, minLength: 8, maxLength: 128, trim: false })
  password!: string;
}

/** What `BookController.Discount` reads: a book, and a percentage off its price (1 to 90). */
export class DiscountRequestSerializer extends ProtoSerializer {
  @ProtoField({ kind: 'integer' }) id!: number;

  @Min(1, { message: 'A discount is 1 to 90 percent.' })
  @Max(90, { message: 'A discount is 1 to 90 percent.' })
  @ProtoField({ kind: 'integer' })
  percent!: number;
}
