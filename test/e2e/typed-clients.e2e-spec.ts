import { Metadata, status } from '@grpc/grpc-js';
import { createGrpcClient, GrpcClientOf } from 'nestjs-grpc-framework';
import { useGrpcTestingApp } from 'nestjs-grpc-framework/testing';
import { SAMPLE_PROTOS, SampleAppModule } from '../../sample/app.module';
import type { AuthControllerClient, AuthorControllerClient, Book, BookControllerClient } from '../../sample/types/bookstore';
import { RunningSample, startSample } from '../utils/sample-app';
import { testDatabase } from '../utils/test-database';

const bearer = (token: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

/** The bookstore called through clients typed by the generated sample/types/bookstore.ts. */
describe('createGrpcClient with the generated client types', () => {
  let sample: RunningSample;
  let books: GrpcClientOf<BookControllerClient>;
  let staff: Metadata;

  beforeAll(async () => {
    sample = await startSample();
    const client = <C>(service: string) => createGrpcClient<C>({ address: sample.address, service, protoPath: SAMPLE_PROTOS.slice(-1) });
    const auth = client<AuthControllerClient>('bookstore.AuthController');
    const { token, member } = await auth.Login({ email: 'staff@bookstore.example', password: 'staff-password' });
    expect(member?.is_staff).toBe(true);
    auth.close();
    staff = bearer(token);
    books = client<BookControllerClient>('bookstore.BookController');
  });
  afterAll(async () => {
    books.close();
    await sample.close();
  });

  it('sends and receives messages as the handlers see them: Dates, decimal strings, nested messages, optional fields', async () => {
    const created: Book = await books.Create(
      {
        title: 'Parable of the Sower',
        isbn: '9780446675505',
        author: { name: 'Octavia Butler' },
        published: new Date('1993-10-01T00:00:00Z'),
        price: '15.99',
        in_stock: true,
      },
      staff,
    );
    expect(created.published).toEqual(new Date('1993-10-01T00:00:00Z'));
    expect(created).toMatchObject({ title: 'Parable of the Sower', price: '15.99', in_stock: true, author: { name: 'Octavia Butler' } });
    expect(created.average_rating).toBeUndefined();
    const discounted = await books.Discount({ id: created.id, percent: 20 }, staff);
    expect(discounted.price).toBe('12.79');
    const page = await books.ListPage({ filter: 'title:"Parable"', page_size: 10 });
    expect(page.books.map((book) => book.title)).toEqual(['Parable of the Sower']);
    expect(page.total_size).toBe(1);
    const listed: Book[] = [];
    for await (const book of books.List({ order_by: 'title' })) listed.push(book as Book);
    expect(listed.map((book) => book.id)).toEqual([created.id]);
    await expect(books.Destroy({ id: created.id })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe('the testing toolkit with the generated client types', () => {
  const database = testDatabase();
  afterAll(() => database.dispose());
  const t = useGrpcTestingApp({ imports: [SampleAppModule.register({ database: database.options })] });

  it('types client<AuthorControllerClient>() and client<BookControllerClient>()', async () => {
    const { token } = await t
      .client<AuthControllerClient>('bookstore.AuthController')
      .Login({ email: 'staff@bookstore.example', password: 'staff-password' });
    const authors = t.client<AuthorControllerClient>('bookstore.AuthorController');
    const author = await authors.Create({ name: 'Ursula K. Le Guin' }, bearer(token));
    const books = t.client<BookControllerClient>('bookstore.BookController');
    const { books: created } = await books.BulkCreate(
      [
        { title: 'The Dispossessed', isbn: '9780061054884', author_id: author.id, published: '1974-05-01T00:00:00Z', price: '9.99' },
        {
          title: 'The Lathe of Heaven',
          isbn: '9781416556961',
          author_id: author.id,
          published: new Date('1971-01-01T00:00:00Z'),
          price: '8.99',
        },
      ],
      bearer(token),
    );
    expect(created.map((book) => [book.title, book.author?.name, book.published?.getUTCFullYear()])).toEqual([
      ['The Dispossessed', 'Ursula K. Le Guin', 1974],
      ['The Lathe of Heaven', 'Ursula K. Le Guin', 1971],
    ]);
  });
});
