import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { Author } from '../../sample/bookstore/author.entity';
import { Book } from '../../sample/bookstore/book.entity';
import { badRequestOf } from '../utils/status-details';
import { GrpcClient, RunningSample, startSample, unary } from '../utils/sample-app';

interface BookMessage {
  id: number;
  author?: { id: number; name: string };
  title: string;
  author_id: number;
  published: { seconds: string; nanos: number };
  isbn: string;
  price: string;
  in_stock: boolean;
}

interface Page {
  books: BookMessage[];
  token: string | undefined;
}

/** Calls the streaming List and resolves with its messages and the `next-page-token` trailer. */
function listPage(client: GrpcClient, request: object): Promise<Page> {
  return new Promise((resolve, reject) => {
    const books: BookMessage[] = [];
    const call: grpc.ClientReadableStream<BookMessage> = client.List(request);
    call.on('data', (book: BookMessage) => books.push(book));
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code !== status.OK) return;
      const [token] = s.metadata.get('next-page-token') as string[];
      // 'end' comes before 'status' in grpc-js; every message has arrived by now.
      setImmediate(() => resolve({ books, token }));
    });
  });
}

const DAY = 24 * 3600 * 1000;
const BASE = Date.UTC(2000, 0, 1);

/** The filter, order and paging of List and ListPage, on the bookstore sample. */
describe('List querying: filter, order_by, page_size and page_token', () => {
  let sample: RunningSample;
  let books: GrpcClient;
  let authors: Author[];
  let all: Book[];

  beforeAll(async () => {
    sample = await startSample();
    books = sample.client('bookstore.BookController');
    const em = sample.orm.em.fork();
    authors = ['Le Guin', 'Herbert', 'Butler'].map((name) => em.create(Author, { name }));
    const titles = [
      'Dune',
      'The Dispossessed',
      'Kindred',
      'Dune Messiah',
      'A Wizard of Earthsea',
      'Parable of the Sower',
      'Children of Dune',
      '100% Pure',
      'Lathe_of_Heaven',
    ];
    all = titles.map((title, i) =>
      em.create(Book, {
        title,
        author: authors[i % 3],
        // Two books share a date, so the order needs its tie-breaker.
        published: new Date(BASE + (i === 4 ? 3 : i) * DAY),
        isbn: String(9780000000000 + i),
        price: `${5 + ((i * 7) % 30)}.${i % 2 ? '50' : '00'}`,
        inStock: i % 2 === 0,
      }),
    );
    await em.flush();
  });
  afterAll(() => sample.close());

  const ids = (page: { books: BookMessage[] }) => page.books.map((book) => book.id);
  const idsWhere = (match: (book: Book) => boolean) => all.filter(match).map((book) => book.id);
  const failure = async (request: object, method: 'List' | 'ListPage' = 'List') => {
    const error = (await (method === 'List' ? listPage(books, request) : unary(books, 'ListPage', request)).then(
      () => {
        throw new Error('expected the call to fail');
      },
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    return {
      code: error.code,
      details: error.details,
      violations: error.code === status.INVALID_ARGUMENT ? badRequestOf(error).violations : [],
    };
  };

  it('streams every book, in the service order, when the request sets none of the fields', async () => {
    const page = await listPage(books, {});
    expect(ids(page)).toEqual(all.map((book) => book.id));
    expect(page.token).toBeUndefined();
  });

  it('filters with comparisons, has, AND, OR, NOT and relations by id', async () => {
    const cases: [string, (book: Book) => boolean][] = [
      ['title:"dune"', (b) => b.title.toLowerCase().includes('dune')],
      ['title:"100%"', (b) => b.title.includes('100%')],
      ['title:"h_of"', (b) => b.title.includes('h_of')],
      [`author_id = ${authors[1].id}`, (b) => b.author === authors[1]],
      ['price >= 20 AND in_stock = true', (b) => Number(b.price) >= 20 && b.inStock],
      ['price < 12.5', (b) => Number(b.price) < 12.5],
      [`isbn = "${9780000000000 + 4}"`, (b) => b.isbn === String(9780000000000 + 4)],
      ['title = "Kindred" OR title = "Dune"', (b) => b.title === 'Kindred' || b.title === 'Dune'],
      ['NOT title:"dune" AND -in_stock = false', (b) => !b.title.toLowerCase().includes('dune') && b.inStock],
      [
        'published > "2000-01-03T00:00:00Z" published <= "2000-01-05T00:00:00Z"',
        (b) => b.published.getTime() > BASE + 2 * DAY && b.published.getTime() <= BASE + 4 * DAY,
      ],
      [
        `(author_id = ${authors[0].id} OR author_id = ${authors[2].id}) AND price <= 25`,
        (b) => b.author !== authors[1] && Number(b.price) <= 25,
      ],
    ];
    for (const [filter, match] of cases) {
      expect({ filter, ids: ids(await listPage(books, { filter })) }).toEqual({ filter, ids: idsWhere(match) });
    }
  });

  it('orders by the fields allowed, in either direction, with the key as the last tie-breaker', async () => {
    const page = await listPage(books, { order_by: 'published desc, title' });
    const expected = [...all].sort((a, b) => b.published.getTime() - a.published.getTime() || a.title.localeCompare(b.title));
    expect(ids(page)).toEqual(expected.map((book) => book.id));
    const byPrice = await listPage(books, { order_by: 'price', filter: 'in_stock = true' });
    expect(ids(byPrice)).toEqual(
      [...all]
        .filter((b) => b.inStock)
        .sort((a, b) => Number(a.price) - Number(b.price) || a.id - b.id)
        .map((b) => b.id),
    );
  });

  it('pages a stream: page_size messages, the next token in the trailers, none after the last page', async () => {
    const request = { filter: 'price > 0', order_by: 'published desc' };
    const expected = ids(await listPage(books, request));
    const seen: number[] = [];
    let token: string | undefined = '';
    let pages = 0;
    do {
      const page: Page = await listPage(books, { ...request, page_size: 2, page_token: token });
      expect(page.books.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      token = page.token;
      pages++;
    } while (token);
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 2));
  });

  it('answers ListPage with one page per response, its next token and the total count', async () => {
    const first = await unary<{ books: BookMessage[]; next_page_token: string; total_size: number }>(books, 'ListPage', {
      filter: 'title:"e"',
      page_size: 3,
      order_by: 'title',
    });
    const matching = all.filter((b) => b.title.toLowerCase().includes('e')).sort((a, b) => a.title.localeCompare(b.title) || a.id - b.id);
    expect(ids(first)).toEqual(matching.slice(0, 3).map((b) => b.id));
    expect(first.total_size).toBe(matching.length);
    expect(first.next_page_token).not.toBe('');
    expect(first.books[0]).toEqual({
      id: matching[0].id,
      title: matching[0].title,
      author_id: matching[0].author.id,
      _author_id: 'author_id', // `optional int32 author_id`: the client's oneofs option names the set member
      author: { id: matching[0].author.id, name: matching[0].author.name },
      published: { seconds: String(matching[0].published.getTime() / 1000), nanos: 0 },
      isbn: matching[0].isbn,
      price: matching[0].price,
      in_stock: matching[0].inStock,
    });
    const rest = await unary<{ books: BookMessage[]; next_page_token: string }>(books, 'ListPage', {
      filter: 'title:"e"',
      page_size: 100,
      order_by: 'title',
      page_token: first.next_page_token,
    });
    expect(ids(rest)).toEqual(matching.slice(3).map((b) => b.id));
    expect(rest.next_page_token).toBe('');
    // Without page_size, ListPage sends defaultPageSize (50) books: all of them here.
    const whole = await unary<{ books: BookMessage[]; next_page_token: string }>(books, 'ListPage', {});
    expect(ids(whole)).toEqual(all.map((b) => b.id));
    expect(whole.next_page_token).toBe('');
  });

  it('refuses a malformed or disallowed filter and order_by with INVALID_ARGUMENT naming the field', async () => {
    await expect(failure({ filter: 'title = ' })).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      violations: [{ field: 'filter', description: expect.stringMatching(/ends where a value after = was expected/) }],
    });
    await expect(failure({ filter: 'id = 3' })).resolves.toMatchObject({
      violations: [
        {
          field: 'filter',
          description: expect.stringMatching(/cannot use id; filterable fields: title, isbn, author_id, published, price, in_stock/),
        },
      ],
    });
    await expect(failure({ filter: 'in_stock != true' })).resolves.toMatchObject({
      violations: [{ field: 'filter', description: 'in_stock cannot be compared with !=; allowed: =.' }],
    });
    await expect(failure({ filter: 'price > "many"' }, 'ListPage')).resolves.toMatchObject({
      violations: [{ field: 'filter', description: 'price: "many" is not a decimal number.' }],
    });
    await expect(failure({ order_by: 'in_stock' })).resolves.toMatchObject({
      violations: [{ field: 'order_by', description: 'order_by cannot use in_stock; orderable fields: title, published, price, id.' }],
    });
    await expect(failure({ page_size: -1 })).resolves.toMatchObject({ violations: [{ field: 'page_size' }] });
  });

  it('refuses an edited token, and a token reused with another filter or order', async () => {
    const request = { filter: 'price > 0', order_by: 'title', page_size: 2 };
    const { token } = await listPage(books, request);
    expect(token).toBeDefined();
    const [body, signature] = token!.split('.');
    const edited = Buffer.from(body, 'base64url')
      .toString()
      .replace(/"a":\[/, '"a":["A",');
    for (const page_token of [`${Buffer.from(edited).toString('base64url')}.${signature}`, `${body}.${signature.slice(1)}x`, 'garbage']) {
      await expect(failure({ ...request, page_token })).resolves.toMatchObject({
        code: status.INVALID_ARGUMENT,
        violations: [{ field: 'page_token', description: expect.stringMatching(/not a token this service issued/) }],
      });
    }
    await expect(failure({ ...request, filter: 'price > 1', page_token: token })).resolves.toMatchObject({
      violations: [{ field: 'page_token', description: expect.stringMatching(/issued for another filter or order_by/) }],
    });
    await expect(failure({ ...request, order_by: 'title desc', page_token: token }, 'ListPage')).resolves.toMatchObject({
      violations: [{ field: 'page_token' }],
    });
    // The next page of the same query may change page_size (AIP-158).
    await expect(listPage(books, { ...request, page_size: 5, page_token: token })).resolves.toMatchObject({ books: expect.any(Array) });
  });

  it('lowers a page_size above maxPageSize to it', async () => {
    const page = await unary<{ books: BookMessage[] }>(books, 'ListPage', { page_size: 1_000_000 });
    expect(page.books).toHaveLength(all.length);
  });
});

/** Keyset pages under concurrent writes: no row twice, no row that existed throughout skipped. */
describe('paging while other calls insert and delete', () => {
  let sample: RunningSample;
  let books: GrpcClient;

  beforeAll(async () => {
    sample = await startSample();
    books = sample.client('bookstore.BookController', await sample.login());
  });
  afterAll(() => sample.close());

  it('never repeats a row and never skips one that stayed', async () => {
    const em = sample.orm.em.fork();
    const author = em.create(Author, { name: 'Anon' });
    const made = Array.from({ length: 60 }, (_, i) =>
      em.create(Book, {
        title: `Book ${String(i).padStart(3, '0')}`,
        author,
        published: new Date(BASE + (i % 7) * DAY),
        isbn: String(9781000000000 + i),
        price: '9.99',
      }),
    );
    await em.flush();
    const doomed = new Set(made.filter((_, i) => i % 5 === 0).map((b) => b.id));
    const stayed = made.filter((b) => !doomed.has(b.id)).map((b) => b.id);
    const request = { order_by: 'published desc, title', page_size: 7 };
    const seen: number[] = [];
    let token: string | undefined = '';
    let round = 0;
    do {
      const page: Page = await listPage(books, { ...request, page_token: token });
      seen.push(...ids(page));
      token = page.token;
      // Between pages, other clients delete some books and add new ones on both sides of the cursor.
      const writer = sample.orm.em.fork();
      const victims = [...doomed].slice(round * 2, round * 2 + 2);
      if (victims.length) await writer.nativeDelete(Book, { id: { $in: victims } });
      await unary(books, 'Create', {
        title: `New ${round}`,
        author_id: author.id,
        published: { seconds: String((BASE + (round % 7) * DAY) / 1000), nanos: 0 },
        isbn: String(9782000000000 + round),
        price: '1.00',
      });
      round++;
    } while (token);
    expect(new Set(seen).size).toBe(seen.length);
    expect(stayed.filter((id) => !seen.includes(id))).toEqual([]);
  });

  function ids(page: Page): number[] {
    return page.books.map((book) => book.id);
  }
});
