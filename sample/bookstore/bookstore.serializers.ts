import { ModelProtoSerializer } from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';

export class AuthorSerializer extends ModelProtoSerializer(Author, { fields: ['id', 'name'] }) {}

/** The author travels by id as `author_id` (the message keeps `author` free for the author itself). */
export class BookSerializer extends ModelProtoSerializer(Book, {
  fields: ['id', 'title', 'author', 'published', 'pages', 'inStock'],
  fieldOptions: { author: { protoName: 'author_id' } },
}) {}
