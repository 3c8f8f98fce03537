import { GrpcModelService, ModelService, PagedListModelMixin } from 'nestjs-grpc-framework';
import { Author } from './author.entity';
import { Book } from './book.entity';
import { AuthorSerializer, BookSerializer } from './bookstore.serializers';

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
    author_id: ['=', '!='],
    published: ['=', '<', '<=', '>', '>='],
    pages: ['=', '!=', '<', '<=', '>', '>='],
    in_stock: ['='],
  },
  orderingFields: ['title', 'published', 'pages', 'id'],
  maxPageSize: 1000,
  defaultPageSize: 50,
  countTotal: true,
})
export class BookService extends PagedListModelMixin(ModelService(Book)) {}
