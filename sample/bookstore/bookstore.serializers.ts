import { ModelProtoSerializer, ProtoField } from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { Member } from './member.entity';

export class AuthorSerializer extends ModelProtoSerializer(Author, { fields: ['id', 'name'] }) {}

/**
 * A book sends its author as an `Author` message (loaded with the book: one query per List
 * batch, not one per book), and is written with the author's key in `author_id`.
 */
export class BookSerializer extends ModelProtoSerializer(Book, {
  fields: ['id', 'title', 'isbn', 'author', 'authorId', 'published', 'price', 'inStock'],
  fieldOptions: {
    author: { serializer: AuthorSerializer },
    authorId: { source: 'author' },
  },
}) {}

/**
 * `password` is write-only: validated on the way in, never sent, not even in error details. It
 * is no entity property: `MemberService` hashes it into `passwordHash`, which is never sent either.
 */
export class MemberSerializer extends ModelProtoSerializer(Member, { fields: ['id', 'email', 'name'] }) {
  @ProtoField({ kind: 'string', writeOnly: true, minLength: 8, maxLength: 128, trim: false })
  password!: string;
}
