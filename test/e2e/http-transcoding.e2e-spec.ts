import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Book } from '../../sample/bookstore/book.entity';
import { RunningSample, startSample } from '../utils/sample-app';

/** The bookstore's HTTP routes (its google.api.http options), called as any REST client calls them. */
describe('HTTP/JSON routes from google.api.http options', () => {
  let sample: RunningSample;
  let base: string;
  let staff: Record<string, string>;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0', cors: { origins: ['https://books.example'] } } } });
    base = `http://${sample.app.get(GrpcFrameworkServer).webAddress!}`;
    const login = await call('POST', '/v1/login', { email: 'staff@bookstore.example', password: 'staff-password' });
    expect(login.status).toBe(200);
    staff = { authorization: `Bearer ${login.body.token as string}` };
  });
  afterAll(() => sample.close());

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  }

  const book = (isbn: string, title = 'Kindred') => ({
    title,
    isbn,
    author: { name: 'Octavia Butler' },
    published: '1979-06-01T00:00:00Z',
    price: '9.50',
    inStock: true,
  });

  it('creates (POST, body "*"), retrieves (GET with a path variable), replaces (PUT) and deletes (DELETE) a book', async () => {
    const created = await call('POST', '/v1/books', book('9780807083697'), staff);
    expect(created).toMatchObject({
      status: 200,
      body: { title: 'Kindred', isbn: '9780807083697', published: '1979-06-01T00:00:00Z', inStock: true },
    });
    const id = created.body.id as number;

    expect(await call('GET', `/v1/books/${id}`)).toMatchObject({
      status: 200,
      body: { id, title: 'Kindred', author: { name: 'Octavia Butler' } },
    });

    const replaced = await call('PUT', `/v1/books/${id}`, { ...book('9780807083697', 'Kindred (25th anniversary)'), id: 999999 }, staff);
    // The path's id wins over the body's.
    expect(replaced).toMatchObject({ status: 200, body: { id, title: 'Kindred (25th anniversary)' } });

    expect(await call('DELETE', `/v1/books/${id}`, undefined, staff)).toMatchObject({ status: 200, body: {} });
    await expect(sample.orm.em.fork().count(Book, { id })).resolves.toBe(0);
    expect(await call('GET', `/v1/books/${id}`)).toMatchObject({
      status: 404,
      body: { code: 5, message: expect.stringContaining('not found') },
    });
  });

  it("serves a custom action's custom method route (POST /v1/books/{id}:discount)", async () => {
    const id = (await call('POST', '/v1/books', book('9780807083698', 'Dawn'), staff)).body.id as number;
    expect(await call('POST', `/v1/books/${id}:discount`, { percent: 20 }, staff)).toMatchObject({
      status: 200,
      body: { id, price: '7.60' },
    });
    expect(await call('POST', `/v1/books/${id}:discount`, { percent: 0 }, staff)).toMatchObject({ status: 400 });
    expect(await call('POST', `/v1/books/${id}:discount`, { percent: 20 })).toMatchObject({ status: 401 });
    await call('DELETE', `/v1/books/${id}`, undefined, staff);
  });

  it('reads the other fields from the query string (GET /v1/books?filter=...&page_size=...)', async () => {
    for (const [i, isbn] of ['9780000000101', '9780000000102', '9780000000103'].entries()) {
      expect((await call('POST', '/v1/books', book(isbn, `Query book ${i}`), staff)).status).toBe(200);
    }
    const page = await call('GET', `/v1/books?filter=${encodeURIComponent('title:"Query book"')}&page_size=2&order_by=title`);
    expect(page.status).toBe(200);
    expect((page.body.books as { title: string }[]).map((b) => b.title)).toEqual(['Query book 0', 'Query book 1']);
    expect(page.body.nextPageToken).toEqual(expect.any(String));
    const next = await call(
      'GET',
      `/v1/books?filter=${encodeURIComponent('title:"Query book"')}&pageSize=2&order_by=title&page_token=${encodeURIComponent(page.body.nextPageToken as string)}`,
    );
    expect((next.body.books as { title: string }[]).map((b) => b.title)).toEqual(['Query book 2']);
  });

  it('serves additional_bindings, and response_body as the whole answer', async () => {
    expect((await call('POST', '/v1/books', book('9780000000301', 'Catalogued'), staff)).status).toBe(200);
    const catalog = await call('GET', `/v1/catalog?filter=${encodeURIComponent('title:"Catalogued"')}`);
    expect(catalog.status).toBe(200);
    expect(catalog.body).toEqual([expect.objectContaining({ title: 'Catalogued', isbn: '9780000000301' })]);
  });

  it('answers failures with google.rpc.Status as JSON and the matching HTTP status', async () => {
    const invalid = await call('POST', '/v1/books', { ...book('9780000000201'), title: '' }, staff);
    expect(invalid).toEqual({
      status: 400,
      headers: expect.anything(),
      body: {
        code: 3,
        message: 'title: This field may not be blank.',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'title', description: 'This field may not be blank.', reason: 'INVALID' }],
          },
        ],
      },
    });
    expect(await call('POST', '/v1/books', book('9780000000202'))).toMatchObject({ status: 401, body: { code: 16 } });
    const duplicate = await call('POST', '/v1/books', book('9780000000203'), staff);
    expect(duplicate.status).toBe(200);
    expect(await call('POST', '/v1/books', book('9780000000203'), staff)).toMatchObject({ status: 409, body: { code: 6 } });
    expect(await call('POST', '/v1/login', { email: 'staff@bookstore.example', password: 'wrong' })).toMatchObject({
      status: 401,
      body: { code: 16, message: 'Wrong email or password.' },
    });
  });

  it('refuses malformed requests without calling the handler', async () => {
    expect(await call('POST', '/v1/books', '{"title": ', staff)).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringContaining('not valid JSON') },
    });
    expect(await call('POST', '/v1/books', '[1, 2]', staff)).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringContaining('JSON object') },
    });
    expect(await call('GET', '/v1/books?colour=red')).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringContaining('"colour"') },
    });
    expect(await call('GET', '/v1/books/seven')).toMatchObject({ status: 400, body: { code: 3 } });
    // A path no rule matches, or a method the path does not take.
    expect((await call('GET', '/v1/authors')).status).toBe(404);
    expect((await call('PATCH', '/v1/books/1', {}, staff)).status).toBe(404);
  });

  it('acts only on the resource the path names: a query parameter may not set a path variable', async () => {
    const kept = await call('POST', '/v1/books', book('9780000000401', 'Kept'), staff);
    const other = await call('POST', '/v1/books', book('9780000000402', 'Other'), staff);
    const [keptId, otherId] = [kept.body.id as number, other.body.id as number];
    const overridden = await call('DELETE', `/v1/books/424242?id=${keptId}`, undefined, staff);
    expect(overridden).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining('"id"') } });
    await expect(sample.orm.em.fork().count(Book, { id: keptId })).resolves.toBe(1);
    // Either spelling of the field's name, on every method.
    expect(await call('GET', `/v1/books/${keptId}?id=${otherId}`)).toMatchObject({ status: 400, body: { code: 3 } });
    expect(await call('GET', `/v1/books/${keptId}`)).toMatchObject({ status: 200, body: { id: keptId, title: 'Kept' } });
    // With body "*" the query is not read at all (google/api/http.proto): the path's book is the one replaced.
    expect(await call('PUT', `/v1/books/${keptId}?id=${otherId}`, book('9780000000401', 'Renamed'), staff)).toMatchObject({
      status: 200,
      body: { id: keptId },
    });
    expect(await call('GET', `/v1/books/${otherId}`)).toMatchObject({ status: 200, body: { title: 'Other' } });
  });

  it("reads integers in paths and queries as decimal only, as proto3's JSON mapping says", async () => {
    const created = await call('POST', '/v1/books', book('9780000000501', 'Decimal'), staff);
    const id = created.body.id as number;
    expect(await call('GET', `/v1/books/${id}`)).toMatchObject({ status: 200 });
    for (const spelling of [`0x${id.toString(16)}`, `0b${id.toString(2)}`, `0o${id.toString(8)}`, `%20${id}`]) {
      expect(await call('GET', `/v1/books/${spelling}`)).toMatchObject({
        status: 400,
        body: { code: 3, message: expect.stringContaining('decimal') },
      });
    }
    expect(await call('GET', '/v1/books?page_size=0x2')).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringContaining('pageSize') },
    });
    const hexAuthor = { ...book('9780000000502'), author: undefined, authorId: '0x1' };
    expect(await call('POST', '/v1/books', hexAuthor, staff)).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringContaining('authorId') },
    });
  });

  it("allows the routes' methods in CORS preflights", async () => {
    const response = await fetch(`${base}/v1/books/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://books.example', 'access-control-request-method': 'DELETE' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toEqual(expect.stringContaining('DELETE'));
    expect(response.headers.get('access-control-allow-methods')).toEqual(expect.stringContaining('PUT'));
  });
});
