import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { GrpcFrameworkModule } from 'nestjs-grpc-framework';
import { useGrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { Book } from '../fixtures/books/book.entity';
import { BooksModule } from '../fixtures/books/books.module';

describe('BookService', () => {
  const t = useGrpcTestingApp(
    {
      imports: [
        MikroOrmModule.forRoot({ driver: BetterSqliteDriver, dbName: ':memory:', autoLoadEntities: true }),
        GrpcFrameworkModule.forRoot({ protoPath: ['test/fixtures/books/books.proto'] }),
        BooksModule,
      ],
    },
    { schema: 'create' }, // creates the tables once; each test then runs in a rolled-back transaction
  );

  it('creates a book', async () => {
    const books = t.client('books.BookController');
    const published = new Date('1965-08-01T00:00:00Z');
    const book = await books.Create({ title: 'Dune', published });
    expect(book).toEqual({ id: expect.any(Number), title: 'Dune', published });
    expect(await t.em.count(Book)).toBe(1);
  });

  it('refuses a blank title with the field named', async () => {
    const books = t.client('books.BookController');
    await expect(books.Create({ title: ' ' })).rejects.toMatchObject({ code: 3, details: 'title: This field may not be blank.' });
    expect(await t.em.count(Book)).toBe(0);
  });
});
