import { status } from '@grpc/grpc-js';
import { GrpcFrameworkServer } from 'nestjs-grpc-framework';
import { Book } from '../../sample/bookstore/book.entity';
import { badRequestOf, failureOf } from '../utils/status-details';
import { collect, RunningSample, startSample, unary } from '../utils/sample-app';
import { postJson } from '../utils/web-clients';

/**
 * Request strings and bytes are bounded, and strings hold no NUL, before any handler runs: a
 * hand-written one (the sample's Login) and a model service's filter alike, on every transport.
 */
describe('request field limits', () => {
  let sample: RunningSample;
  let server: GrpcFrameworkServer;
  let staff: string;

  beforeAll(async () => {
    sample = await startSample({ grpc: { web: { url: '127.0.0.1:0' }, maxRequestFieldBytes: 64 * 1024 } });
    server = sample.app.get(GrpcFrameworkServer);
    staff = await sample.login();
  });
  afterAll(() => sample.close());

  const violationsOf = async (call: Promise<unknown>) => {
    const error = await failureOf(call);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    return badRequestOf(error).violations;
  };

  it('refuses a NUL in a Login email and in a List filter, naming the field, instead of failing in the database', async () => {
    const auth = sample.client('bookstore.AuthController');
    await expect(
      violationsOf(unary(auth, 'Login', { email: 'staff@bookstore.example\u0000', password: 'staff-password' })),
    ).resolves.toEqual([{ field: 'email', description: 'Null characters are not allowed.', reason: 'INVALID' }]);
    const books = sample.client('bookstore.BookController');
    await expect(violationsOf(collect(books, 'List', { filter: 'title = "\u0000"' }))).resolves.toEqual([
      { field: 'filter', description: 'Null characters are not allowed.', reason: 'INVALID' },
    ]);
    // A string that merely holds a zero byte's neighbours, and a message with zero bytes elsewhere, pass.
    await expect(collect(books, 'List', { filter: 'title = "\u0001"', page_size: 0 })).resolves.toEqual([]);
  });

  it('refuses a string longer than maxRequestFieldBytes before the handler reads it', async () => {
    const auth = sample.client('bookstore.AuthController');
    await expect(violationsOf(unary(auth, 'Login', { email: 'a'.repeat(64 * 1024 + 1), password: 'x' }))).resolves.toEqual([
      { field: 'email', description: 'Ensure this field has no more than 65536 bytes (maxRequestFieldBytes).', reason: 'INVALID' },
    ]);
    // Within it, the sample's Login bounds its own fields as a member's are bounded.
    await expect(violationsOf(unary(auth, 'Login', { email: 'a'.repeat(1000), password: 'x' }))).resolves.toEqual([
      { field: 'email', description: 'Ensure this field has no more than 254 characters.', reason: 'INVALID' },
    ]);
  });

  it('names the message of a client stream that holds a NUL, and stores none of the stream', async () => {
    const book = (title: string) => ({
      title,
      isbn: `97800000${title.length}0000`.slice(0, 13),
      author: { name: 'A' },
      published: { seconds: '0', nanos: 0 },
      price: '1.00',
    });
    const error = await new Promise<Parameters<typeof badRequestOf>[0]>((resolve) => {
      const call = sample.client('bookstore.BookController', staff).BulkCreate((e: Parameters<typeof badRequestOf>[0]) => resolve(e));
      call.write(book('Fine'));
      call.write(book('Nul\u0000'));
      call.end();
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(badRequestOf(error).violations).toEqual([
      { field: 'items[1].title', description: 'Null characters are not allowed.', reason: 'INVALID' },
    ]);
    expect(await sample.orm.em.fork().count(Book, {})).toBe(0);
  });

  it('refuses them the same way over Connect and an HTTP route', async () => {
    const connect = await postJson(server, '/bookstore.AuthController/Login', { email: '\u0000', password: 'x' });
    expect(connect.status).toBe(400);
    expect(connect.body).toMatchObject({ code: 'invalid_argument', message: 'email: Null characters are not allowed.' });
    const route = await postJson(server, '/v1/login', { email: '\u0000', password: 'x' });
    expect(route.status).toBe(400);
    expect(route.body).toMatchObject({ message: 'email: Null characters are not allowed.' });
  });
});
